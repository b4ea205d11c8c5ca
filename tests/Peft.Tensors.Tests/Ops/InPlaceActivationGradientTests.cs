namespace Peft.Tensors.Tests;

/// <summary>
/// Tanh-GELU and SiLU write an intermediate input's gradient over their output's when that one dies (Tape.TryHandGradientToA):
/// the gradient must be what the accumulating path gives, whichever of the input's consumers runs backward first, and
/// backward must not rent a second buffer of the activation's size.
/// </summary>
[TestClass]
public sealed class InPlaceActivationGradientTests
{
    // Above the activation kernels' parallel threshold (65,536) and not a multiple of a vector.
    private const int N = 70_001;

    private static double Derivative(bool silu, double x)
    {
        if (silu)
        {
            double s = 1 / (1 + Math.Exp(-x));
            return s * (1 + x * (1 - s));
        }
        const double c = 0.7978845608028654, k = 0.044715;
        double t = Math.Tanh(c * (x + k * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x);
    }

    private static Tensor Activate(bool silu, Tensor x) => silu ? Ops.Silu(x) : Ops.Gelu(x, GeluApproximation.Tanh);

    private static float[] Values(int seed, float scale)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, N).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale)];
    }

    [TestMethod]
    [DataRow(false, false), DataRow(false, true), DataRow(true, false), DataRow(true, true)]
    public void AnIntermediatesGradientIsExactWhicheverConsumerRunsFirst(bool silu, bool otherUseRecordedFirst)
    {
        // x = a + a is an intermediate; loss = Σ w·act(x) + Σ v·x, so dL/da = 2·(w·act'(x) + v). Recording x's other
        // use first makes the activation's backward run first (it takes its output's gradient); recording it last makes
        // the other use's backward give x a gradient first (the activation then adds into it).
        var a = Tensor.Parameter(Values(1, 2f), new Shape(N));
        var w = Tensor.FromArray(Values(2, 1f), N);
        var v = Tensor.FromArray(Values(3, 1f), N);
        using (new TensorScope())
        {
            var x = Ops.Add(a, a);
            Tensor? other = otherUseRecordedFirst ? Ops.Multiply(x, v) : null;
            var activated = Ops.Multiply(Activate(silu, x), w);
            other ??= Ops.Multiply(x, v);
            Ops.Add(Ops.Sum(activated, 0), Ops.Sum(other, 0)).Backward();
        }
        var grad = a.Grad!.ToArray();
        for (int i = 0; i < N; i++)
        {
            double x = 2.0 * a.Span[i];
            double expected = 2 * (w.Span[i] * Derivative(silu, x) + v.Span[i]);
            Assert.AreEqual(expected, grad[i], 2e-5 * (1 + Math.Abs(expected)), $"element {i}");
        }
    }

    [TestMethod]
    [DataRow(false), DataRow(true)]
    public void BackwardRentsNoSecondBufferOfTheActivationsSize(bool silu)
    {
        // loss = Σ act(a + a): backward rents act's output gradient (N) and, written in place, nothing more for x's.
        var a = Tensor.Parameter(Values(4, 2f), new Shape(N));
        long rentedGrowth;
        using (new TensorScope())
        {
            var loss = Ops.Sum(Activate(silu, Ops.Add(a, a)), 0);
            TensorPool.ResetPeakOnThisThread();
            long before = TensorPool.RentedOnThisThread;
            loss.Backward();
            rentedGrowth = TensorPool.PeakRentedOnThisThread - before;
        }
        // One buffer of N (and the scalar loss's gradient), not two.
        long one = TensorPool.SizeClass(N);
        Assert.IsLessThan(2 * one, rentedGrowth, $"backward rented {rentedGrowth:N0} elements at most at once; one buffer is {one:N0}");
        for (int i = 0; i < N; i += 997)
            Assert.AreEqual(2 * Derivative(silu, 2.0 * a.Span[i]), a.Grad!.Span[i], 2e-5, $"element {i}");
    }
}
