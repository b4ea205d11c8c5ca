namespace Peft.Tensors.Tests;

/// <summary>
/// <see cref="TensorScope.Release"/>: a buffer goes back to the pool at once when no recorded
/// backward step reads it, or after the last one that does, and gradients are unchanged.
/// </summary>
[TestClass]
public sealed class EarlyReleaseTests
{
    private static Tensor Total(Tensor t) => Ops.Sum(Ops.Reshape(t, t.Length), 0);

    [TestMethod]
    public void ABufferNoBackwardReadsIsReturnedAtOnce()
    {
        var weight = Tensor.Parameter([1f, 2f, 3f, 4f], new Shape(2, 2));
        weight.RequiresGrad = false;
        var input = Tensor.Parameter([1f, -1f], new Shape(1, 2));
        using var scope = new TensorScope();
        var hidden = Ops.Scale(input, 2f);
        var y = Ops.Linear(hidden, weight);
        // The frozen weight's product reads only the weight in backward: hidden is dead now.
        TensorScope.Release(hidden);
        Assert.ThrowsExactly<ObjectDisposedException>(() => hidden.ToArray());
        Total(y).Backward();
        // dy/dinput = 2·(column sums of W) = 2·[1 + 3, 2 + 4].
        CollectionAssert.AreEqual(new float[] { 8f, 12f }, input.Grad!.ToArray());
    }

    [TestMethod]
    public void ABufferBackwardReadsStaysUntilItsStepHasRun()
    {
        var x = Tensor.Parameter([0.5f, -1f, 2f], new Shape(3));
        float[] expected;
        using (new TensorScope())
        {
            var h = Ops.Scale(x, 3f);
            Total(Ops.Gelu(h, GeluApproximation.Tanh)).Backward();
            expected = x.Grad!.ToArray();
        }
        x.ZeroGrad();
        using (new TensorScope())
        {
            var h = Ops.Scale(x, 3f);
            var g = Ops.Gelu(h, GeluApproximation.Tanh);
            // GELU's backward reads its input: releasing only marks it.
            TensorScope.Release(h);
            CollectionAssert.AreEqual(new[] { 1.5f, -3f, 6f }, h.ToArray());
            var loss = Total(g);
            TensorScope.Release(g);
            loss.Backward();
            Assert.ThrowsExactly<ObjectDisposedException>(() => h.ToArray(), "returned once GELU's backward ran");
            CollectionAssert.AreEqual(expected, x.Grad!.ToArray());
        }
    }

    [TestMethod]
    public void ReleasedIntermediatesLowerTheScopesPooledPeak()
    {
        // Ten frozen layers, each a product then GELU: backward reads only the GELU inputs, so the
        // GELU outputs can go once the next product has them; without releases all stay rented.
        var weight = Tensor.Parameter(new float[256 * 256], new Shape(256, 256));
        weight.RequiresGrad = false;
        var input = Tensor.Parameter(new float[64 * 256], new Shape(64, 256));
        long Peak(bool release)
        {
            TensorPool.ResetPeakOnThisThread();
            long before = TensorPool.RentedOnThisThread;
            using var scope = new TensorScope();
            var h = input;
            for (int i = 0; i < 10; i++)
            {
                var next = Ops.Gelu(Ops.Linear(h, weight), GeluApproximation.Tanh);
                if (release && i > 0) TensorScope.Release(h);
                h = next;
            }
            Total(h).Backward();
            input.ZeroGrad();
            return TensorPool.PeakRentedOnThisThread - before;
        }
        long kept = Peak(release: false), released = Peak(release: true);
        Assert.IsLessThan(kept * 0.75, (double)released, $"peak rented elements: {released:N0} with releases vs {kept:N0} without");
    }
}
