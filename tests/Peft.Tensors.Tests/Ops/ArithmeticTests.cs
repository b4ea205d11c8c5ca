using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class ArithmeticTests
{
    [TestMethod]
    public void AddBroadcastsTrailingDimensions()
    {
        var a = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([10, 20, 30], 3);
        CollectionAssert.AreEqual(new float[] { 11, 22, 33, 14, 25, 36 }, Ops.Add(a, b).ToArray());
        CollectionAssert.AreEqual(new float[] { 11, 22, 33, 14, 25, 36 }, Ops.Add(b, a).ToArray());
    }

    [TestMethod]
    public void ElementwiseForwardValues()
    {
        var a = Tensor.FromArray([1, -2, 3, 8], 4);
        var b = Tensor.FromArray([2, 4, -1, 2], 4);
        CollectionAssert.AreEqual(new float[] { -1, -6, 4, 6 }, Ops.Subtract(a, b).ToArray());
        CollectionAssert.AreEqual(new float[] { 2, -8, -3, 16 }, Ops.Multiply(a, b).ToArray());
        CollectionAssert.AreEqual(new float[] { 0.5f, -0.5f, -3, 4 }, Ops.Divide(a, b).ToArray());
        CollectionAssert.AreEqual(new float[] { 2.5f, -5, 7.5f, 20 }, Ops.Scale(a, 2.5f).ToArray());
    }

    [TestMethod]
    public void IncompatibleShapesNameOpAndShapes()
    {
        var a = Tensor.Zeros(new Shape(2, 3));
        var b = Tensor.Zeros(new Shape(2));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.Add(a, b));
        StringAssert.Contains(ex.Message, "Add");
        StringAssert.Contains(ex.Message, "[2, 3]");
        StringAssert.Contains(ex.Message, "[2]");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void BinaryGradientsMatchFiniteDifferences(int kind)
    {
        var a = GradientCheck.Random(1, 0.5f, 2f, 2, 3, 4);
        var b = GradientCheck.Random(2, 0.5f, 2f, 3, 4);
        Func<Tensor[], Tensor> f = kind switch
        {
            0 => t => Ops.Add(t[0], t[1]),
            1 => t => Ops.Subtract(t[1], t[0]),
            2 => t => Ops.Multiply(t[0], t[1]),
            _ => t => Ops.Divide(t[0], t[1]),
        };
        GradientCheck.Check(f, [a, b]);
    }

    [TestMethod]
    public void ScaleAndAddScalarGradients()
    {
        var x = GradientCheck.Random(3, -1f, 1f, 5);
        GradientCheck.Check(t => Ops.AddScalar(Ops.Scale(t[0], -1.5f), 2f), [x]);
    }

    [TestMethod]
    public void LargeSameShapeOperationsMatchEachElement()
    {
        // 210 000 values: chunks on both workers, the second ending short of a whole vector.
        var rng = new Random(12);
        var a = Enumerable.Range(0, 210_000).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var b = Enumerable.Range(0, 210_000).Select(_ => (float)(rng.NextDouble() * 4 + 0.5)).ToArray();
        var ta = Tensor.FromArray(a, 300, 700);
        var tb = Tensor.FromArray(b, 300, 700);
        var sum = Ops.Add(ta, tb).ToArray();
        var difference = Ops.Subtract(ta, tb).ToArray();
        var product = Ops.Multiply(ta, tb).ToArray();
        var quotient = Ops.Divide(ta, tb).ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            if (sum[i] != a[i] + b[i] || difference[i] != a[i] - b[i] || product[i] != a[i] * b[i] || quotient[i] != a[i] / b[i])
                Assert.Fail($"element {i}: {a[i]:R} and {b[i]:R} gave {sum[i]:R}, {difference[i]:R}, {product[i]:R}, {quotient[i]:R}");
        }
    }
}
