using Peft.Tensors.Optimizers;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Tests;

[TestClass]
[DoNotParallelize] // The pool is process-wide: tests running beside it would take its buffers.
public sealed class SteadyStateAllocationTests
{
    [TestMethod]
    public void TrainingStepsReuseBuffersAndAllocateOnlySmallObjects()
    {
        const int batch = 16, length = 8, vocab = 8;
        var model = new TinyAttentionModel(vocab, length, dim: 64, seed: 1);
        var optimizer = new AdamW(model.Parameters, learningRate: 1e-3f);
        var ids = IntTensor.FromArray(Enumerable.Range(0, batch * length).Select(i => i % vocab).ToArray(), batch, length);
        var targets = IntTensor.FromArray(Enumerable.Range(0, batch * length).Select(i => (i + 1) % vocab).ToArray(), batch, length);
        for (int i = 0; i < 3; i++) model.TrainStep(ids, targets, optimizer);

        const int steps = 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++) model.TrainStep(ids, targets, optimizer);
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / steps;

        // The activations of one step: every intermediate of [batch, length, 64] floats and more.
        long activationBytes = (long)batch * length * 64 * sizeof(float) * 10;
        // What remains is tensor/shape objects and the test model's own id tensors: a few KB,
        // far below one activation buffer, and no buffer is allocated again.
        Assert.IsLessThan(16 * 1024, perStep, $"allocated {perStep} bytes per step");
        Assert.IsLessThan(activationBytes / 10, perStep);
        Assert.IsGreaterThan(0L, TensorPool.PooledElements);
    }

    [TestMethod]
    public void AReshapedParameterGetsAPooledGradient()
    {
        // A prefix table is used through a reshaped view; the view's gradient is an intermediate
        // that must come from the pool, not a fresh array the size of the parameter every step.
        var table = Tensor.Parameter(new float[64 * 1024], new Shape(64, 1024));
        var optimizer = new AdamW([table], learningRate: 1e-3f);
        void Step()
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            var view = Ops.Reshape(table, 64, 16, 64);
            Ops.Sum(Ops.Reshape(Ops.Scale(view, 2f), 64 * 1024), 0).Backward();
            optimizer.Step();
        }
        for (int i = 0; i < 3; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Assert.IsLessThan(16 * 1024, perStep, $"allocated {perStep} bytes per step (the parameter is 256 KB)");
        CollectionAssert.AreEqual(Enumerable.Repeat(2f, 8).ToArray(), table.Grad!.ToArray()[..8]);
    }
}
