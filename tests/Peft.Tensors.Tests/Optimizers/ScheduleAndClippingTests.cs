using Peft.Tensors.Optimizers;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class ScheduleAndClippingTests
{
    [TestMethod]
    public void LinearWarmupThenDecay()
    {
        var s = LearningRateSchedule.Linear(1e-3f, warmupSteps: 10, totalSteps: 110);
        Assert.AreEqual(0f, s.LearningRateAt(0));
        Assert.AreEqual(5e-4f, s.LearningRateAt(5), 1e-9f);
        Assert.AreEqual(1e-3f, s.LearningRateAt(10), 1e-9f);
        Assert.AreEqual(5e-4f, s.LearningRateAt(60), 1e-9f);
        Assert.AreEqual(0f, s.LearningRateAt(110));
        Assert.AreEqual(0f, s.LearningRateAt(200));
    }

    [TestMethod]
    public void CosineIsHalfAtMidpointAndZeroAtEnd()
    {
        var s = LearningRateSchedule.Cosine(2f, warmupSteps: 0, totalSteps: 100);
        Assert.AreEqual(2f, s.LearningRateAt(0), 1e-6f);
        Assert.AreEqual(1f, s.LearningRateAt(50), 1e-6f);
        Assert.AreEqual(0f, s.LearningRateAt(100), 1e-6f);
        Assert.AreEqual(3f, LearningRateSchedule.Constant(3f).LearningRateAt(1000));
    }

    [TestMethod]
    public void ClipGlobalNormScalesAllGradientsTogether()
    {
        var a = Tensor.Parameter([0f, 0f], new Shape(2));
        var b = Tensor.Parameter([0f], new Shape(1));
        a.Grad = Tensor.FromArray([3f, 0f], 2);
        b.Grad = Tensor.FromArray([4f], 1);
        float norm = GradientClipping.ClipGlobalNorm([a, b], 1f);
        Assert.AreEqual(5f, norm, 1e-6f);
        Assert.AreEqual(0.6f, a.Grad.ToArray()[0], 1e-5f);
        Assert.AreEqual(0.8f, b.Grad.ToArray()[0], 1e-5f);
        // Below the threshold nothing changes.
        norm = GradientClipping.ClipGlobalNorm([a, b], 10f);
        Assert.AreEqual(1f, norm, 1e-5f);
        Assert.AreEqual(0.6f, a.Grad.ToArray()[0], 1e-5f);
    }

    [TestMethod]
    public void InvalidArgumentsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LearningRateSchedule.Linear(1f, 10, 5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm([], 0f));
    }
}
