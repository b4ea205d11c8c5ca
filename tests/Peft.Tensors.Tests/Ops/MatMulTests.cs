using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class MatMulTests
{
    [TestMethod]
    public void TwoByTwoProduct()
    {
        var a = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var b = Tensor.FromArray([5, 6, 7, 8], 2, 2);
        CollectionAssert.AreEqual(new float[] { 19, 22, 43, 50 }, Ops.MatMul(a, b).ToArray());
        // aᵀ·b and a·bᵀ
        CollectionAssert.AreEqual(new float[] { 26, 30, 38, 44 }, Ops.MatMul(a, b, transposeA: true).ToArray());
        CollectionAssert.AreEqual(new float[] { 17, 23, 39, 53 }, Ops.MatMul(a, b, transposeB: true).ToArray());
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void BatchedGradients(bool ta, bool tb)
    {
        var a = GradientCheck.Random(1, -1f, 1f, ta ? [2, 4, 3] : [2, 3, 4]);
        var b = GradientCheck.Random(2, -1f, 1f, tb ? [2, 5, 4] : [2, 4, 5]);
        GradientCheck.Check(t => Ops.MatMul(t[0], t[1], ta, tb), [a, b]);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void SharedRightOperandGradients(bool tb)
    {
        var a = GradientCheck.Random(1, -1f, 1f, 2, 3, 4);
        var b = GradientCheck.Random(2, -1f, 1f, tb ? [5, 4] : [4, 5]);
        GradientCheck.Check(t => Ops.MatMul(t[0], t[1], false, tb), [a, b]);
    }

    [TestMethod]
    public void InnerDimensionMismatchIsClear()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.MatMul(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(4, 5))));
        StringAssert.Contains(ex.Message, "MatMul");
        StringAssert.Contains(ex.Message, "[2, 3]");
        StringAssert.Contains(ex.Message, "[4, 5]");
    }

    [TestMethod]
    public void LinearMatchesHandComputedValues()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var w = Tensor.FromArray([1, 0, -1, 2, 1, 0], 2, 3);
        var b = Tensor.FromArray([0.5f, -1], 2);
        CollectionAssert.AreEqual(new float[] { -1.5f, 3, -1.5f, 12 }, Ops.Linear(x, w, b).ToArray());
    }

    [TestMethod]
    public void LinearGradients()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 2, 3, 4);
        var w = GradientCheck.Random(2, -1f, 1f, 5, 4);
        var b = GradientCheck.Random(3, -1f, 1f, 5);
        GradientCheck.Check(t => Ops.Linear(t[0], t[1], t[2]), [x, w, b]);
    }

    [TestMethod]
    public void FrozenWeightGetsNoGradient()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 3, 4);
        var w = Tensor.FromArray(new float[20], 5, 4);
        var y = Ops.Linear(x, w);
        y.Backward(Tensor.Ones(y.Shape));
        Assert.IsNull(w.Grad);
        Assert.IsNotNull(x.Grad);
    }
}
