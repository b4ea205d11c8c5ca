using System.Numerics.Tensors;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>Softmax along <paramref name="axis"/> (max-subtracted, float32 like PyTorch).</summary>
    public static Tensor Softmax(Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: false);

    /// <summary>Log-softmax along <paramref name="axis"/>: x − max − log Σ exp(x − max).</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: true);

    private static Tensor SoftmaxCore(Tensor x, int axis, bool log)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank == 0) throw ShapeError(log ? "LogSoftmax" : "Softmax", "needs a tensor of rank 1 or more; got a scalar.");
        int a = x.Shape.NormalizeAxis(axis);
        int n = x.Shape[a], inner = x.Shape.Stride(a), outer = x.Shape.ProductRange(0, a);
        var y = Tensor.Uninitialized(x.Shape);
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        if (inner == 1)
        {
            for (int r = 0; r < outer; r++) SoftmaxRow(xs.Slice(r * n, n), ys.Slice(r * n, n), log);
        }
        else
        {
            Span<float> row = n <= 1024 ? stackalloc float[n] : new float[n];
            Span<float> outRow = n <= 1024 ? stackalloc float[n] : new float[n];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int start = o * n * inner + i;
                    for (int k = 0; k < n; k++) row[k] = xs[start + k * inner];
                    SoftmaxRow(row, outRow, log);
                    for (int k = 0; k < n; k++) ys[start + k * inner] = outRow[k];
                }
        }
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = SoftmaxBackward.Instance, Output = y, A = x, Int0 = a, Int1 = log ? 1 : 0 });
        return y;
    }

    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
        {
            // Every entry is −∞: PyTorch yields NaN; keep that visible.
            y.Fill(float.NaN);
            return;
        }
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            float sum = 0;
            for (int i = 0; i < y.Length; i++) sum += MathF.Exp(y[i]);
            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
        }
        else ExpNormalize(y);
    }

    /// <summary>y = exp(y) / Σ exp(y) in place, for y already shifted by its row's maximum.</summary>
    internal static void ExpNormalize(Span<float> y)
    {
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    private sealed class SoftmaxBackward : IBackward
    {
        public static readonly SoftmaxBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            var shape = e.A!.Shape;
            int a = e.Int0;
            bool log = e.Int1 == 1;
            int n = shape[a], inner = shape.Stride(a), outer = shape.ProductRange(0, a);
            ReadOnlySpan<float> g = e.Output.Grad!.Span, y = e.Output.Span;
            for (int o = 0; o < outer; o++)
            {
                for (int i = 0; i < inner; i++)
                {
                    int start = o * n * inner + i;
                    if (log)
                    {
                        // d/dx of log-softmax: g − softmax·Σg
                        float sumG = 0;
                        for (int k = 0; k < n; k++) sumG += g[start + k * inner];
                        for (int k = 0; k < n; k++)
                        {
                            int idx = start + k * inner;
                            gx[idx] += g[idx] - MathF.Exp(y[idx]) * sumG;
                        }
                    }
                    else
                    {
                        // d/dx of softmax: y·(g − Σ g·y)
                        float dot = 0;
                        for (int k = 0; k < n; k++) dot += g[start + k * inner] * y[start + k * inner];
                        for (int k = 0; k < n; k++)
                        {
                            int idx = start + k * inner;
                            gx[idx] += y[idx] * (g[idx] - dot);
                        }
                    }
                }
            }
        }
    }
}
