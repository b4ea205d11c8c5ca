using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class TapeTests
{
    [TestMethod]
    public void SharedSubexpressionAccumulatesBothPaths()
    {
        // y = x*x + x  =>  dy/dx = 2x + 1
        var x = Tensor.Parameter([3f, -2f], new Shape(2));
        var y = Ops.Add(Ops.Multiply(x, x), x);
        y.Backward(Tensor.Ones(y.Shape));
        CollectionAssert.AreEqual(new float[] { 7, -3 }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed()
    {
        var x = Tensor.Parameter([1f, 2f], new Shape(2));
        for (int i = 0; i < 3; i++)
        {
            var y = Ops.Scale(x, 2f);
            y.Backward(Tensor.Ones(y.Shape));
        }
        CollectionAssert.AreEqual(new float[] { 6, 6 }, x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.IsNull(x.Grad);
    }

    [TestMethod]
    public void NoGradRecordsNothing()
    {
        var x = Tensor.Parameter([1f], new Shape(1));
        Tensor y;
        using (Autograd.NoGrad())
            y = Ops.Scale(x, 2f);
        Assert.IsFalse(y.RequiresGrad);
        Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
    }

    [TestMethod]
    public void ReshapeSharesDataAndPassesGradient()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 2, 6);
        var r = Ops.Reshape(x, 3, -1);
        Assert.AreEqual(new Shape(3, 4), r.Shape);
        GradientCheck.Check(t => Ops.Scale(Ops.Reshape(t[0], 4, 3), 3f), [x]);
    }
}
