using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class LinearCrossEntropyTests
{
    [TestMethod]
    [DataRow(3, true)]
    [DataRow(64, true)]
    [DataRow(3, false)]
    [DataRow(64, false)]
    public void ChunkedHeadLossEqualsCrossEntropyOfTheFullLogitsWithGradients(int chunkRows, bool weightTrains)
    {
        float[] Run(bool fused, out float[] gh, out float[] gw)
        {
            var r = new SeededRandom(4);
            var hidden = TensorInit.Normal(new Shape(7, 5), 0, 1, r);
            var weight = TensorInit.Normal(new Shape(11, 5), 0, 1, r);
            hidden.RequiresGrad = true;
            // A frozen weight takes the path that makes the hidden gradient in forward.
            weight.RequiresGrad = weightTrains;
            var targets = IntTensor.FromArray([3, -100, 10, 0, 7, -100, 2], 7);
            float loss;
            using (new TensorScope())
            {
                var l = fused ? Ops.LinearCrossEntropy(hidden, weight, targets, -100, chunkRows) : Ops.CrossEntropy(Ops.Linear(hidden, weight), targets);
                loss = l.Item();
                Ops.Scale(l, 2.5f).Backward();
            }
            gh = hidden.Grad!.ToArray();
            gw = weight.Grad?.ToArray() ?? [];
            return [loss];
        }
        var expected = Run(false, out var eh, out var ew);
        var actual = Run(true, out var ah, out var aw);
        Assert.HasCount(ew.Length, aw);
        Assert.AreEqual(expected[0], actual[0], 1e-5f);
        for (int i = 0; i < eh.Length; i++) Assert.AreEqual(eh[i], ah[i], 1e-5f, $"hidden grad {i}");
        for (int i = 0; i < ew.Length; i++) Assert.AreEqual(ew[i], aw[i], 1e-5f, $"weight grad {i}");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void FrozenHeadMatchesFullLogitsAcrossClassBlocksRowPassesAndThreads(int threads)
    {
        // 2600 classes make several 288-class blocks per thread and 1030 rows two row passes; logits
        // with a spread of about ±30 move each row's running maximum between blocks.
        const int rows = 1030, features = 6, classes = 2600;
        var r = new SeededRandom(11);
        var hidden = TensorInit.Normal(new Shape(rows, features), 0, 4, r);
        var weight = TensorInit.Normal(new Shape(classes, features), 0, 1, r);
        var ids = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = i % 7 == 3 ? -100 : (int)(r.NextUInt32() % classes);
        var targets = IntTensor.FromArray(ids, rows);
        hidden.RequiresGrad = true;
        weight.RequiresGrad = false;

        float Loss(bool fused, out float[] gradient)
        {
            hidden.Grad = null;
            float loss;
            using (new TensorScope())
            {
                var l = fused ? Ops.LinearCrossEntropy(hidden, weight, targets) : Ops.CrossEntropy(Ops.Linear(hidden, weight), targets);
                loss = l.Item();
                l.Backward();
            }
            gradient = hidden.Grad!.ToArray();
            return loss;
        }
        float expected = Loss(false, out var eg);
        Gemm.MaxThreads = threads;
        float actual;
        float[] ag;
        try
        {
            actual = Loss(true, out ag);
        }
        finally
        {
            Gemm.MaxThreads = 0;
        }
        Assert.AreEqual(expected, actual, 1e-5f * Math.Abs(expected), "loss");
        float scale = eg.Max(Math.Abs);
        for (int i = 0; i < eg.Length; i++) Assert.AreEqual(eg[i], ag[i], 1e-5f * scale, $"hidden grad {i}");
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(1, 2)]
    [DataRow(3, 1)]
    [DataRow(2, 289)]
    [DataRow(2, 1025)]
    public void FrozenHeadHandlesTinyAndOddSizes(int rows, int classes)
    {
        // One class (fewer classes than threads), one row, and one class past a block boundary.
        var r = new SeededRandom((ulong)(rows * 7 + classes));
        var hidden = TensorInit.Normal(new Shape(rows, 4), 0, 1, r);
        var weight = TensorInit.Normal(new Shape(classes, 4), 0, 1, r);
        hidden.RequiresGrad = true;
        weight.RequiresGrad = false;
        var targets = IntTensor.FromArray(Enumerable.Range(0, rows).Select(i => (i * 5 + 1) % classes).ToArray(), rows);
        float[] Run(bool fused, out float loss)
        {
            hidden.Grad = null;
            using (new TensorScope())
            {
                var l = fused ? Ops.LinearCrossEntropy(hidden, weight, targets) : Ops.CrossEntropy(Ops.Linear(hidden, weight), targets);
                loss = l.Item();
                l.Backward();
            }
            return hidden.Grad!.ToArray();
        }
        var expected = Run(false, out float expectedLoss);
        var actual = Run(true, out float actualLoss);
        Assert.AreEqual(expectedLoss, actualLoss, 1e-5f);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-5f, $"hidden grad {i}");
    }

    [TestMethod]
    public void BadShapesAreRejected()
    {
        var h = Tensor.Zeros(new Shape(2, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => Ops.LinearCrossEntropy(h, Tensor.Zeros(new Shape(4, 2)), IntTensor.FromArray([0, 1], 2))).Message, "LinearCrossEntropy");
        Assert.ThrowsExactly<ArgumentException>(() => Ops.LinearCrossEntropy(h, Tensor.Zeros(new Shape(4, 3)), IntTensor.FromArray([0, 1, 2], 3)));
    }
}
