using Peft.Tensors.Optimizers;
using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class AdamWTests
{
    // An independent double-precision transcription of torch.optim.AdamW's update.
    private static double[] Reference(double[] p0, double[][] grads, double lr, double b1, double b2, double eps, double wd)
    {
        var p = (double[])p0.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= grads.Length; t++)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
                p[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / denom;
            }
        }
        return p;
    }

    [TestMethod]
    [DataRow(0f)]
    [DataRow(0.1f)]
    public void MatchesReferenceOverSeveralSteps(float weightDecay)
    {
        // 37 elements exercise both the vector loop and the scalar tail.
        var rng = new Random(5);
        var p0 = Enumerable.Range(0, 37).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var grads = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 37).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        var param = Tensor.Parameter(p0.Select(x => (float)x).ToArray(), new Shape(37));
        var opt = new AdamW([param], learningRate: 0.01f, weightDecay: weightDecay);
        foreach (var g in grads)
        {
            param.Grad = Tensor.FromArray(g.Select(x => (float)x).ToArray(), 37);
            opt.Step();
        }
        var expected = Reference(p0, grads, 0.01, 0.9, 0.999, 1e-8, weightDecay);
        GradientCheck.AssertClose(expected.Select(x => (float)x).ToArray(), param.ToArray(), atol: 2e-6, rtol: 1e-5, what: "AdamW");
        Assert.AreEqual(4, opt.StepCount);
    }

    [TestMethod]
    public void SkipsParametersWithoutGradient()
    {
        var a = Tensor.Parameter([1f, 2f], new Shape(2));
        var b = Tensor.Parameter([3f], new Shape(1));
        var opt = new AdamW([a, b], learningRate: 0.1f);
        a.Grad = Tensor.FromArray([1f, 1f], 2);
        opt.Step();
        CollectionAssert.AreEqual(new[] { 3f }, b.ToArray());
        Assert.AreNotEqual(1f, a.ToArray()[0]);
    }

    [TestMethod]
    public void RejectsFrozenParametersAndBadHyperparameters()
    {
        var frozen = Tensor.FromArray([1f], 1);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new AdamW([frozen]));
        StringAssert.Contains(ex.Message, "does not require gradients");
        var p = Tensor.Parameter([1f], new Shape(1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AdamW([p], beta1: 1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AdamW([p], learningRate: float.NaN));
    }
}
