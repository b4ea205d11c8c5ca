using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class ActivationTests
{
    private static double GeluErfReference(double x) => 0.5 * x * (1 + Ops.ErfDouble(x / Math.Sqrt(2)));

    [TestMethod]
    public void ForwardValuesAgainstClosedForms()
    {
        float[] xs = [-3f, -1f, -0.25f, 0f, 0.5f, 2f];
        var x = Tensor.FromArray(xs, xs.Length);
        var relu = Ops.Relu(x).ToArray();
        var tanh = Ops.Tanh(x).ToArray();
        var sig = Ops.Sigmoid(x).ToArray();
        var silu = Ops.Silu(x).ToArray();
        var geluT = Ops.Gelu(x, GeluApproximation.Tanh).ToArray();
        var geluE = Ops.Gelu(x, GeluApproximation.Erf).ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            double v = xs[i];
            double s = 1 / (1 + Math.Exp(-v));
            Assert.AreEqual(Math.Max(v, 0), relu[i], 0);
            Assert.AreEqual(Math.Tanh(v), tanh[i], 1e-6);
            Assert.AreEqual(s, sig[i], 1e-6);
            Assert.AreEqual(v * s, silu[i], 1e-6);
            Assert.AreEqual(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), geluT[i], 1e-6);
            Assert.AreEqual(GeluErfReference(v), geluE[i], 1e-6);
        }
    }

    [TestMethod]
    public void TanhGeluRoundsEachStepAsFloat()
    {
        // 70 000 values: both threads, many 2048-value blocks and a short last one. The fused passes must give the floats
        // of the formula's steps rounded one at a time (as five separate vector passes gave before them).
        var rng = new Random(5);
        var values = Enumerable.Range(0, 70_000).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
        var y = Ops.Gelu(Tensor.FromArray(values, values.Length), GeluApproximation.Tanh).ToArray();
        var t = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i], u = v * v;
            u *= 0.044715f;
            u += 1f;
            u *= v;
            u *= 0.7978845608028654f;
            t[i] = u;
        }
        System.Numerics.Tensors.TensorPrimitives.Tanh(t, t);
        for (int i = 0; i < values.Length; i++)
        {
            float expected = (t[i] + 1f) * values[i];
            expected *= 0.5f;
            Assert.AreEqual(expected, y[i], $"GELU({values[i]:R}) at {i}");
        }
    }

    [TestMethod]
    public void ErfMatchesKnownValues()
    {
        // erf values from tables (Abramowitz & Stegun, 10+ digits).
        Assert.AreEqual(0.5204998778, Ops.ErfDouble(0.5), 1e-9);
        Assert.AreEqual(0.8427007929, Ops.ErfDouble(1.0), 1e-9);
        Assert.AreEqual(0.9953222650, Ops.ErfDouble(2.0), 1e-9);
        Assert.AreEqual(0.9999779095, Ops.ErfDouble(3.0), 1e-9);
        Assert.AreEqual(-0.9661051465, Ops.ErfDouble(-1.5), 1e-9);
        Assert.AreEqual(0.9999999846, Ops.ErfDouble(4.0), 1e-9);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    [DataRow(5)]
    public void GradientsMatchFiniteDifferences(int which)
    {
        // Values kept away from ReLU's kink at 0 (|x| >= 0.1 > eps) so the difference is valid.
        var values = Enumerable.Range(0, 24).Select(i => (i % 2 == 0 ? 1 : -1) * (0.1f + 0.12f * i)).ToArray();
        var x = Tensor.Parameter(values, new Shape(4, 6));
        Func<Tensor[], Tensor> f = which switch
        {
            0 => t => Ops.Relu(t[0]),
            1 => t => Ops.Tanh(t[0]),
            2 => t => Ops.Sigmoid(t[0]),
            3 => t => Ops.Silu(t[0]),
            4 => t => Ops.Gelu(t[0], GeluApproximation.Tanh),
            _ => t => Ops.Gelu(t[0], GeluApproximation.Erf),
        };
        GradientCheck.Check(f, [x], eps: 1e-2);
    }
}
