using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>Ops.Linear through the cached packed copy of a frozen weight.</summary>
[TestClass]
public sealed class PackedLinearTests
{
    [TestMethod]
    [DataRow(1, 70, 45)]
    [DataRow(8, 64, 100)]
    [DataRow(37, 129, 33)]
    public void FrozenWeightMatchesTrainableWeight(int rows, int inF, int outF)
    {
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Portable })
        {
            if (!Gemm.IsSupported(isa)) continue;
            using var _ = GemmTests.Force(isa, 2);
            var rng = new Random(rows + inF);
            var xValues = GemmTests.RandomArray(rng, rows * inF);
            var wValues = GemmTests.RandomArray(rng, outF * inF);
            var gValues = GemmTests.RandomArray(rng, rows * outF);

            var (yFrozen, gxFrozen) = Run(xValues, wValues, gValues, rows, inF, outF, trainable: false);
            var (yTrainable, gxTrainable) = Run(xValues, wValues, gValues, rows, inF, outF, trainable: true);
            GemmTests.AssertClose(yTrainable, yFrozen, inF, $"forward {isa}");
            GemmTests.AssertClose(gxTrainable, gxFrozen, outF, $"input gradient {isa}");
        }
    }

    [TestMethod]
    public void MarkModifiedRepacksTheWeight()
    {
        var x = Tensor.FromArray([1, 2, 3], 1, 3);
        var w = Tensor.FromArray([1, 0, 0, 0, 1, 0], 2, 3);
        CollectionAssert.AreEqual(new float[] { 1, 2 }, Ops.Linear(x, w).ToArray());

        w.Span[0] = 10;
        w.MarkModified();
        CollectionAssert.AreEqual(new float[] { 10, 2 }, Ops.Linear(x, w).ToArray());

        // Without MarkModified the packed copy is stale by contract; with it, it follows again.
        w.Span[4] = 5;
        w.MarkModified();
        CollectionAssert.AreEqual(new float[] { 10, 10 }, Ops.Linear(x, w).ToArray());
    }

    [TestMethod]
    public void FrozenWeightBackwardFollowsMarkModified()
    {
        var w = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        float[] InputGradient()
        {
            var x = Tensor.Parameter([1, 1, 1], new Shape(1, 3));
            Ops.Linear(x, w).Backward(Tensor.Ones(new Shape(1, 2)));
            return x.Grad!.ToArray();
        }
        CollectionAssert.AreEqual(new float[] { 5, 7, 9 }, InputGradient());
        w.Span.Fill(1);
        w.MarkModified();
        CollectionAssert.AreEqual(new float[] { 2, 2, 2 }, InputGradient());
    }

    [TestMethod]
    public void ManyRowsReuseTheCopyFewRowsMadeAndNeverAStaleOne()
    {
        // 130 rows alone pack per call; after a 1-row product made the cached copy they multiply through it instead:
        // the same products, so within float rounding of the per-call result, and after MarkModified neither path
        // may see the old values.
        var (rng, x, w) = ManyRowsByFrozenWeight(7);
        Assert.IsNull(PackedWeightCache.ExistingForward(w), "no copy before a product with few rows");
        var perCall = Ops.Linear(x, w).ToArray();
        Ops.Linear(Tensor.FromArray(GemmTests.RandomArray(rng, InF), 1, InF), w);
        Assert.IsNotNull(PackedWeightCache.ExistingForward(w), "a product with one row keeps a packed copy");
        GemmTests.AssertClose(perCall, Ops.Linear(x, w).ToArray(), InF, "through the cached copy");

        w.Span.Fill(0.5f);
        w.MarkModified();
        Assert.IsNull(PackedWeightCache.ExistingForward(w), "a modified weight's copy is stale");
        var expected = new float[Rows * OutF];
        for (int r = 0; r < Rows; r++)
        {
            float sum = 0f;
            for (int i = 0; i < InF; i++) sum += 0.5f * x.Span[r * InF + i];
            for (int o = 0; o < OutF; o++) expected[r * OutF + o] = sum;
        }
        GemmTests.AssertClose(expected, Ops.Linear(x, w).ToArray(), InF, "after MarkModified");
    }

    [TestMethod]
    public void PackFrozenWeightsMakesTheCopyForAnyRowsAndOnlyInsideTheRegion()
    {
        var (rng, x, w) = ManyRowsByFrozenWeight(11);
        var trainable = Tensor.Parameter(GemmTests.RandomArray(rng, OutF * InF), new Shape(OutF, InF));
        var perCall = Ops.Linear(x, w).ToArray();
        Assert.IsNull(PackedWeightCache.ExistingForward(w), "outside the region many rows pack per call");

        float[] packed;
        using (WeightPacking.PackFrozenWeights())
        {
            using (WeightPacking.PackFrozenWeights()) Assert.IsTrue(WeightPacking.PacksFrozenWeights);
            Assert.IsTrue(WeightPacking.PacksFrozenWeights, "an inner region's end leaves the outer one in force");
            packed = Ops.Linear(x, w).ToArray();
            Assert.IsNotNull(PackedWeightCache.ExistingForward(w), "inside the region many rows make the copy");
            Ops.Linear(x, trainable);
            Assert.IsNull(trainable.DerivedCache, "a weight that trains is never copied");
        }
        Assert.IsFalse(WeightPacking.PacksFrozenWeights);
        GemmTests.AssertClose(perCall, packed, InF, "through the copy the region made");

        // Another thread is not in this thread's region.
        var other = Tensor.FromArray(GemmTests.RandomArray(rng, OutF * InF), OutF, InF);
        using (WeightPacking.PackFrozenWeights())
        {
            var thread = new Thread(() => Ops.Linear(x, other)); // a thread of its own: a Task could run inline here
            thread.Start();
            thread.Join();
        }
        Assert.IsNull(PackedWeightCache.ExistingForward(other), "the region is per thread");
    }

    // More rows than the default packed-copy limit, by a frozen weight: [Rows, InF] · [OutF, InF]ᵀ.
    private const int Rows = PackedWeightCache.MaxCachedRows * 2 + 2, InF = 96, OutF = 80;

    private static (Random Rng, Tensor X, Tensor W) ManyRowsByFrozenWeight(int seed)
    {
        var rng = new Random(seed);
        var x = Tensor.FromArray(GemmTests.RandomArray(rng, Rows * InF), Rows, InF);
        var w = Tensor.FromArray(GemmTests.RandomArray(rng, OutF * InF), OutF, InF);
        return (rng, x, w);
    }

    private static (float[] Y, float[] Gx) Run(float[] xValues, float[] wValues, float[] gValues, int rows, int inF, int outF, bool trainable)
    {
        var x = Tensor.Parameter(xValues, new Shape(rows, inF));
        var w = trainable ? Tensor.Parameter(wValues, new Shape(outF, inF)) : Tensor.FromArray(wValues, outF, inF);
        var y = Ops.Linear(x, w);
        y.Backward(Tensor.FromArray(gValues, rows, outF));
        Assert.AreEqual(trainable, w.Grad is not null);
        return (y.ToArray(), x.Grad!.ToArray());
    }
}
