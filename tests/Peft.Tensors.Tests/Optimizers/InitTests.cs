namespace Peft.Tensors.Tests;

[TestClass]
public sealed class InitTests
{
    [TestMethod]
    public void SameSeedSameValuesDifferentSeedDifferentValues()
    {
        var a = TensorInit.Normal(new Shape(100), 0f, 1f, new SeededRandom(7)).ToArray();
        var b = TensorInit.Normal(new Shape(100), 0f, 1f, new SeededRandom(7)).ToArray();
        var c = TensorInit.Normal(new Shape(100), 0f, 1f, new SeededRandom(8)).ToArray();
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void NormalAndUniformMoments()
    {
        var n = TensorInit.Normal(new Shape(200_000), 2f, 3f, new SeededRandom(1)).ToArray();
        double mean = n.Average(x => (double)x);
        double std = Math.Sqrt(n.Average(x => (x - mean) * (x - mean)));
        Assert.AreEqual(2.0, mean, 0.03);
        Assert.AreEqual(3.0, std, 0.03);
        var u = TensorInit.Uniform(new Shape(200_000), -1f, 3f, new SeededRandom(2)).ToArray();
        Assert.IsTrue(u.All(x => x >= -1f && x < 3f));
        Assert.AreEqual(1.0, u.Average(x => (double)x), 0.02);
    }

    [TestMethod]
    public void KaimingUniformBoundIsPyTorchLinearDefault()
    {
        // nn.Linear(in=64): bound = 1/sqrt(64) = 0.125.
        var w = TensorInit.KaimingUniform(new Shape(32, 64), new SeededRandom(3)).ToArray();
        Assert.IsTrue(w.All(x => Math.Abs(x) <= 0.125f));
        Assert.IsGreaterThan(0.12f, w.Max());
        Assert.ThrowsExactly<ArgumentException>(() => TensorInit.KaimingUniform(new Shape(5), new SeededRandom(3)));
    }

    [TestMethod]
    public void StateRoundTripResumesSequence()
    {
        var r = new SeededRandom(42);
        r.NextUInt32();
        var state = r.State;
        var next = new[] { r.NextFloat(), r.NextNormal(), r.NextInt(10) };
        r.Restore(state);
        CollectionAssert.AreEqual(next, new[] { r.NextFloat(), r.NextNormal(), r.NextInt(10) });
    }
}
