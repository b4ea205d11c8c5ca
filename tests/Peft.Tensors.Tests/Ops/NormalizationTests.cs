using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class NormalizationTests
{
    [TestMethod]
    public void LayerNormOfKnownRow()
    {
        // mean 2.5, biased variance 1.25
        var x = Tensor.FromArray([1, 2, 3, 4], 1, 4);
        var w = Tensor.FromArray([1, 1, 2, 2], 4);
        var b = Tensor.FromArray([0, 0, 0, 1], 4);
        var y = Ops.LayerNorm(x, w, b, 0f).ToArray();
        double s = 1 / Math.Sqrt(1.25);
        GradientCheck.AssertClose([(float)(-1.5 * s), (float)(-0.5 * s), (float)(1.0 * s), (float)(3.0 * s + 1)], y, 1e-6);
    }

    [TestMethod]
    public void RmsNormOfKnownRow()
    {
        var x = Tensor.FromArray([3, 4], 1, 2);
        var y = Ops.RmsNorm(x, Tensor.FromArray([1, 2], 2), 0f).ToArray();
        double r = Math.Sqrt(12.5);
        GradientCheck.AssertClose([(float)(3 / r), (float)(8 / r)], y, 1e-6);
    }

    [TestMethod]
    public void LayerNormGradients()
    {
        var x = GradientCheck.Random(1, -2f, 2f, 3, 7);
        var w = GradientCheck.Random(2, 0.5f, 1.5f, 7);
        var b = GradientCheck.Random(3, -1f, 1f, 7);
        GradientCheck.Check(t => Ops.LayerNorm(t[0], t[1], t[2], 1e-5f), [x, w, b]);
    }

    [TestMethod]
    public void RmsNormGradients()
    {
        var x = GradientCheck.Random(1, -2f, 2f, 2, 3, 5);
        var w = GradientCheck.Random(2, 0.5f, 1.5f, 5);
        GradientCheck.Check(t => Ops.RmsNorm(t[0], t[1], 1e-6f), [x, w]);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ManyRowsGiveEachRowsOwnFloatsAndGradients(bool rms)
    {
        // 150 rows of 700: enough values that the rows are split between the workers (75 each); each row, and its input
        // gradient through the saved statistics, must be exactly what that row alone gives.
        const int rows = 150, d = 700;
        var x = GradientCheck.Random(4, -3f, 3f, rows, d);
        var w = GradientCheck.Random(5, 0.5f, 1.5f, d);
        var b = GradientCheck.Random(6, -1f, 1f, d);
        var g = GradientCheck.Random(7, -1f, 1f, rows, d).ToArray();
        Tensor Normalize(Tensor input) => rms ? Ops.RmsNorm(input, w, 1e-5f) : Ops.LayerNorm(input, w, b, 1e-5f);
        var y = Normalize(x);
        y.Backward(Tensor.FromArray(g, rows, d));
        var ys = y.ToArray();
        var gx = x.Grad!.ToArray();
        foreach (int r in new[] { 0, 74, 75, 149 })
        {
            var row = Tensor.Parameter(x.Span.Slice(r * d, d).ToArray(), new Shape(1, d));
            var yr = Normalize(row);
            yr.Backward(Tensor.FromArray(g.AsSpan(r * d, d).ToArray(), 1, d));
            CollectionAssert.AreEqual(yr.ToArray(), ys.AsSpan(r * d, d).ToArray(), $"row {r} of y");
            CollectionAssert.AreEqual(row.Grad!.ToArray(), gx.AsSpan(r * d, d).ToArray(), $"row {r} of the input gradient");
        }
    }

    [TestMethod]
    public void WrongWeightShapeIsNamed()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.LayerNorm(Tensor.Zeros(new Shape(2, 4)), Tensor.Zeros(new Shape(3)), null, 1e-5f));
        StringAssert.Contains(ex.Message, "LayerNorm");
        StringAssert.Contains(ex.Message, "[3]");
        StringAssert.Contains(ex.Message, "[2, 4]");
    }
}
