using Peft.Tensors;

namespace Peft.Tensors.Tests.Support;

/// <summary>
/// Compares autograd gradients with central finite differences. The scalar probed is
/// L = Σ y·R for a fixed random R (accumulated in double), so every output element matters.
/// Default step and tolerances suit smooth float32 ops with O(1) values: truncation error
/// ~eps²·|f'''| ≈ 1e-5 and rounding ~1e-7·√n/eps ≈ 1e-5, far inside atol 2e-3 + rtol 2e-2.
/// </summary>
internal static class GradientCheck
{
    public static void Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-2,
        double atol = 2e-3, double rtol = 2e-2, int maxElementsPerInput = 64, int seed = 1234)
    {
        foreach (var t in inputs) t.ZeroGrad();
        var y = function(inputs);
        var rng = new Random(seed);
        var weights = new float[y.Length];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(rng.NextDouble() * 2 - 1);
        y.Backward(Tensor.FromArray(weights, y.Shape.ToArray()));

        for (int ti = 0; ti < inputs.Length; ti++)
        {
            var input = inputs[ti];
            if (!input.RequiresGrad) continue;
            Assert.IsNotNull(input.Grad, $"input {ti} ({input}) received no gradient");
            var analytic = input.Grad.ToArray();
            var data = input.Span;
            int step = Math.Max(1, data.Length / maxElementsPerInput);
            for (int i = 0; i < data.Length; i += step)
            {
                float original = data[i];
                data[i] = (float)(original + eps);
                double plus = Probe(function, inputs, weights);
                data[i] = (float)(original - eps);
                double minus = Probe(function, inputs, weights);
                data[i] = original;
                double numeric = (plus - minus) / (2 * eps);
                double tol = atol + rtol * Math.Abs(numeric);
                Assert.IsLessThanOrEqualTo(tol, Math.Abs(analytic[i] - numeric),
                    $"input {ti} element {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6} (tolerance {tol:G3})");
            }
        }
    }

    private static double Probe(Func<Tensor[], Tensor> function, Tensor[] inputs, float[] weights)
    {
        using var _ = Autograd.NoGrad();
        var y = function(inputs).Span;
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)y[i] * weights[i];
        return sum;
    }

    /// <summary>A trainable tensor with values uniform in [lo, hi).</summary>
    public static Tensor Random(int seed, float lo, float hi, params int[] shape)
    {
        var rng = new Random(seed);
        var s = new Shape(shape);
        var v = new float[s.ElementCount];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return Tensor.Parameter(v, s);
    }

    /// <summary>Asserts two spans agree elementwise within atol + rtol·|expected|.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol = 1e-5, double rtol = 1e-5, string what = "")
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = atol + rtol * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"{what}: element {i} expected {expected[i]:G7} got {actual[i]:G7} (tolerance {tol:G3})");
        }
    }
}
