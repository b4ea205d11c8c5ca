using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class SoftmaxAndLossTests
{
    [TestMethod]
    public void SoftmaxOfOneTwoThree()
    {
        var y = Ops.Softmax(Tensor.FromArray([1, 2, 3], 3)).ToArray();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        GradientCheck.AssertClose([(float)(Math.Exp(1) / z), (float)(Math.Exp(2) / z), (float)(Math.Exp(3) / z)], y, 1e-7);
        var logY = Ops.LogSoftmax(Tensor.FromArray([1, 2, 3], 3)).ToArray();
        GradientCheck.AssertClose([(float)(1 - Math.Log(z)), (float)(2 - Math.Log(z)), (float)(3 - Math.Log(z))], logY, 1e-6);
    }

    [TestMethod]
    public void SoftmaxIsStableForHugeValuesAndMaskedEntries()
    {
        var y = Ops.Softmax(Tensor.FromArray([1000f, 1000f, float.MinValue], 3)).ToArray();
        CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0f }, y);
    }

    [TestMethod]
    [DataRow(-1)]
    [DataRow(0)]
    [DataRow(1)]
    public void SoftmaxGradientsOnAnyAxis(int axis)
    {
        var x = GradientCheck.Random(1, -2f, 2f, 3, 4, 5);
        GradientCheck.Check(t => Ops.Softmax(t[0], axis), [x]);
        GradientCheck.Check(t => Ops.LogSoftmax(t[0], axis), [x]);
    }

    [TestMethod]
    public void CrossEntropyOfKnownLogitsWithIgnoredTarget()
    {
        var logits = Tensor.FromArray([0, 0, 0, 1, 2, 3, 5, 5, 5], 3, 3);
        var loss = Ops.CrossEntropy(logits, IntTensor.FromArray([1, 2, -100], 3)).Item();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        double expected = (Math.Log(3) + (Math.Log(z) - 3)) / 2;
        Assert.AreEqual(expected, loss, 1e-6);
    }

    [TestMethod]
    public void CrossEntropyAllIgnoredIsNaNLikePyTorch()
    {
        var loss = Ops.CrossEntropy(Tensor.Zeros(new Shape(2, 3)), IntTensor.FromArray([-100, -100], 2)).Item();
        Assert.IsTrue(float.IsNaN(loss));
    }

    [TestMethod]
    public void CrossEntropyGradients()
    {
        var logits = GradientCheck.Random(1, -2f, 2f, 2, 3, 5);
        var targets = IntTensor.FromArray([0, 4, -100, 2, 1, 3], 2, 3);
        GradientCheck.Check(t => Ops.CrossEntropy(t[0], targets), [logits]);
    }

    [TestMethod]
    public void CrossEntropyTargetOutOfRangeIsNamed()
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ops.CrossEntropy(Tensor.Zeros(new Shape(2, 3)), IntTensor.FromArray([1, 3], 2)));
        StringAssert.Contains(ex.Message, "element 1 is 3");
        StringAssert.Contains(ex.Message, "[0, 3)");
    }

    [TestMethod]
    public void ReductionsValuesAndGradients()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        CollectionAssert.AreEqual(new float[] { 5, 7, 9 }, Ops.Sum(x, 0).ToArray());
        CollectionAssert.AreEqual(new float[] { 2, 5 }, Ops.Mean(x, 1).ToArray());
        Assert.AreEqual(new Shape(2, 1), Ops.Mean(x, -1, keepDim: true).Shape);
        Assert.AreEqual(21f, Ops.SumAll(x).Item());
        Assert.AreEqual(3.5f, Ops.MeanAll(x).Item());
        var p = GradientCheck.Random(2, -1f, 1f, 2, 3, 4);
        GradientCheck.Check(t => Ops.Sum(t[0], 1), [p]);
        GradientCheck.Check(t => Ops.Mean(t[0], -1, keepDim: true), [p]);
        GradientCheck.Check(t => Ops.MeanAll(t[0]), [p]);
        GradientCheck.Check(t => Ops.SumAll(t[0]), [p]);
    }
}
