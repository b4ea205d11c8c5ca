using System.Numerics.Tensors;

namespace Peft.Tensors;

/// <summary>The two GELU formulas in use.</summary>
public enum GeluApproximation
{
    /// <summary>Exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's default, HF "gelu").</summary>
    Erf,

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (HF "gelu_new", GPT-2, T5 gated-gelu).</summary>
    Tanh,
}

public static partial class Ops
{
    private enum UnaryKind { Relu, Tanh, Sigmoid, Silu, GeluTanh, GeluErf }

    private const float GeluTanhScale = 0.7978845608028654f; // √(2/π)
    private const float GeluCubic = 0.044715f;

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => Unary(UnaryKind.Relu, x);

    /// <summary>tanh(x).</summary>
    public static Tensor Tanh(Tensor x) => Unary(UnaryKind.Tanh, x);

    /// <summary>1 / (1 + e^−x).</summary>
    public static Tensor Sigmoid(Tensor x) => Unary(UnaryKind.Sigmoid, x);

    /// <summary>x·sigmoid(x) (SiLU / swish, Llama's MLP activation).</summary>
    public static Tensor Silu(Tensor x) => Unary(UnaryKind.Silu, x);

    /// <summary>GELU in the chosen form.</summary>
    public static Tensor Gelu(Tensor x, GeluApproximation approximation = GeluApproximation.Erf) =>
        Unary(approximation == GeluApproximation.Tanh ? UnaryKind.GeluTanh : UnaryKind.GeluErf, x);

    private static Tensor Unary(UnaryKind kind, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = Tensor.Uninitialized(x.Shape);
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        switch (kind)
        {
            case UnaryKind.Relu: TensorPrimitives.Max(xs, 0f, ys); break;
            case UnaryKind.Tanh: TensorPrimitives.Tanh(xs, ys); break;
            case UnaryKind.Sigmoid: TensorPrimitives.Sigmoid(xs, ys); break;
            case UnaryKind.Silu:
                ActivationKernels.Forward(ActivationKernels.Kind.Silu, x.Buffer, y.Buffer, x.Length);
                break;
            case UnaryKind.GeluTanh:
                ActivationKernels.Forward(ActivationKernels.Kind.GeluTanh, x.Buffer, y.Buffer, x.Length);
                break;
            default:
                for (int i = 0; i < xs.Length; i++) ys[i] = 0.5f * xs[i] * (1f + Erf(xs[i] * 0.70710678118654752f));
                break;
        }
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = UnaryBackward.Instance, Output = y, A = x, Int0 = (int)kind });
        return y;
    }

    /// <summary>erf in float, from a double evaluation (series below 2.5, continued fraction above).</summary>
    internal static float Erf(float x) => (float)ErfDouble(x);

    internal static double ErfDouble(double x)
    {
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series: converges fast here and is accurate to double rounding.
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else if (ax < 6)
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), by Lentz's method.
            double f = ax, c = ax, d = 0;
            for (int n = 1; n < 200; n++)
            {
                double an = n * 0.5;
                d = ax + an * d;
                d = 1.0 / d;
                c = ax + an / c;
                double delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16) break;
            }
            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        else r = 1.0;
        return x < 0 ? -r : r;
    }

    private sealed class UnaryBackward : IBackward
    {
        public static readonly UnaryBackward Instance = new();

        // Tanh and sigmoid differentiate through their output, the others through their input.
        public TapeSlots Reads(in TapeEntry e) =>
            (UnaryKind)e.Int0 is UnaryKind.Tanh or UnaryKind.Sigmoid ? TapeSlots.Output : TapeSlots.A;

        public void Backward(ref TapeEntry e)
        {
            var kind = (UnaryKind)e.Int0;
            // The feed-forward activations (the largest intermediates of a block) overwrite their output's gradient with
            // their input's when it dies here: no fresh zeroed buffer of that size in backward.
            bool inPlace = kind is UnaryKind.GeluTanh or UnaryKind.Silu && Tape.TryHandGradientToA(ref e);
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            bool fromOutput = kind is UnaryKind.Tanh or UnaryKind.Sigmoid;
            var gradient = inPlace ? e.A!.Grad! : e.Output.Grad!;
            ReadOnlySpan<float> g = gradient.Span, x = fromOutput ? default : e.A!.Span, y = fromOutput ? e.Output.Span : default;
            switch (kind)
            {
                case UnaryKind.Relu:
                    for (int i = 0; i < g.Length; i++) if (x[i] > 0) gx[i] += g[i];
                    break;
                case UnaryKind.Tanh:
                    for (int i = 0; i < g.Length; i++) gx[i] += g[i] * (1f - y[i] * y[i]);
                    break;
                case UnaryKind.Sigmoid:
                    for (int i = 0; i < g.Length; i++) gx[i] += g[i] * y[i] * (1f - y[i]);
                    break;
                case UnaryKind.Silu:
                    ActivationKernels.Backward(ActivationKernels.Kind.Silu, e.A!.Buffer, gradient.Buffer, e.A!.Grad!.Buffer, g.Length, accumulate: !inPlace);
                    break;
                case UnaryKind.GeluTanh:
                    ActivationKernels.Backward(ActivationKernels.Kind.GeluTanh, e.A!.Buffer, gradient.Buffer, e.A!.Grad!.Buffer, g.Length, accumulate: !inPlace);
                    break;
                default:
                    for (int i = 0; i < g.Length; i++)
                    {
                        float v = x[i];
                        float d = 0.5f * (1f + Erf(v * 0.70710678118654752f)) + v * MathF.Exp(-0.5f * v * v) * 0.3989422804014327f;
                        gx[i] += g[i] * d;
                    }
                    break;
            }
        }
    }
}
