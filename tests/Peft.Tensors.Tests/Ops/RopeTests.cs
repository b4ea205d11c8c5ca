using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class RopeTests
{
    [TestMethod]
    public void MatchesDirectFormula()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 2, 3, 4, 6);
        var pos = IntTensor.FromArray([0, 1, 2, 7, 5, 5, 9, 100], 2, 4);
        var y = Ops.ApplyRope(x, pos, 10000f);
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 3; h++)
                for (int t = 0; t < 4; t++)
                    for (int i = 0; i < 3; i++)
                    {
                        double angle = pos.Span[b * 4 + t] * Math.Pow(10000, -2.0 * i / 6);
                        double x1 = x.GetAt(b, h, t, i), x2 = x.GetAt(b, h, t, i + 3);
                        Assert.AreEqual(x1 * Math.Cos(angle) - x2 * Math.Sin(angle), y.GetAt(b, h, t, i), 2e-5);
                        Assert.AreEqual(x2 * Math.Cos(angle) + x1 * Math.Sin(angle), y.GetAt(b, h, t, i + 3), 2e-5);
                    }
    }

    [TestMethod]
    public void GradientIsInverseRotation()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 1, 2, 3, 4);
        var pos = IntTensor.FromArray([3, 1, 4], 1, 3);
        GradientCheck.Check(t => Ops.ApplyRope(t[0], pos, 500000f), [x]);
    }

    [TestMethod]
    public void OddHeadDimAndWrongPositionsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Ops.ApplyRope(Tensor.Zeros(new Shape(1, 1, 2, 3)), IntTensor.Zeros(new Shape(1, 2)), 1e4f));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => Ops.ApplyRope(Tensor.Zeros(new Shape(1, 1, 2, 4)), IntTensor.Zeros(new Shape(1, 3)), 1e4f)).Message, "[1, 2]");
    }
}
