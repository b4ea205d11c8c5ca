using System.Numerics;
using System.Numerics.Tensors;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// Vectorized, multi-threaded forward and backward kernels for the activations that run over
/// every feed-forward element (tanh-GELU, SiLU): blocks of a few thousand elements go through
/// TensorPrimitives (SIMD tanh/sigmoid) with a per-thread scratch buffer, split over the worker pool.
/// </summary>
internal sealed class ActivationKernels : ParallelTask
{
    private const int Block = 2048;
    private const int ParallelThreshold = 1 << 16;
    private const float GeluTanhScale = 0.7978845608028654f; // √(2/π)
    private const float GeluCubic = 0.044715f;

    [ThreadStatic] private static ActivationKernels? t_task;
    [ThreadStatic] private static float[]? t_scratch;

    public enum Kind { GeluTanh, Silu }

    private Kind _kind;
    private bool _backward, _accumulate;
    private float[] _x = [], _y = [], _g = [], _gx = [];
    private int _length, _chunk;

    /// <summary>y = activation(x).</summary>
    public static void Forward(Kind kind, float[] x, float[] y, int length) => Run(kind, false, x, y, [], [], length);

    /// <summary>gx += g · activation'(x), or gx = g · activation'(x) without <paramref name="accumulate"/> (then gx may be g).</summary>
    public static void Backward(Kind kind, float[] x, float[] g, float[] gx, int length, bool accumulate = true) =>
        Run(kind, true, x, [], g, gx, length, accumulate);

    private static void Run(Kind kind, bool backward, float[] x, float[] y, float[] g, float[] gx, int length, bool accumulate = true)
    {
        var task = t_task ??= new ActivationKernels();
        task._kind = kind;
        task._backward = backward;
        task._accumulate = accumulate;
        (task._x, task._y, task._g, task._gx, task._length) = (x, y, g, gx, length);
        int pieces = length >= ParallelThreshold ? WorkerPool.Degree : 1;
        task._chunk = (length + pieces - 1) / pieces;
        task._chunk = (task._chunk + Block - 1) / Block * Block;
        if (pieces == 1) task.Execute(0);
        else WorkerPool.Run(task, (length + task._chunk - 1) / task._chunk);
        (task._x, task._y, task._g, task._gx) = ([], [], [], []);
    }

    /// <summary>gx (+)= g·(0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)), given x² and t; g and gx may be one span.</summary>
    private static void GeluTanhGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> xSquared, ReadOnlySpan<float> t, ReadOnlySpan<float> g, Span<float> gx,
        bool accumulate)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var half = new Vector<float>(0.5f);
            var one = Vector<float>.One;
            var scale = new Vector<float>(GeluTanhScale);
            var cubic3 = new Vector<float>(3f * GeluCubic);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var tv = new Vector<float>(t[i..]);
                var xv = new Vector<float>(x[i..]);
                var d = half * (one + tv) + half * xv * (one - tv * tv) * scale * (one + cubic3 * new Vector<float>(xSquared[i..]));
                ((accumulate ? new Vector<float>(gx[i..]) : Vector<float>.Zero) + new Vector<float>(g[i..]) * d).CopyTo(gx[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float tv = t[i], v = x[i];
            float d = 0.5f * (1f + tv) + 0.5f * v * (1f - tv * tv) * GeluTanhScale * (1f + 3f * GeluCubic * xSquared[i]);
            gx[i] = (accumulate ? gx[i] : 0f) + g[i] * d;
        }
    }

    /// <summary>
    /// xSquared = x², argument = √(2/π)·(x·(0.044715·x² + 1)), in one pass with the rounding of five separate ones (the
    /// same operations in the same order, none fused) instead of five TensorPrimitives passes over the block (the
    /// activation was ~5 % of an int8 prompt pass's samples).
    /// </summary>
    private static void GeluTanhArgument(ReadOnlySpan<float> x, Span<float> xSquared, Span<float> argument)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            var cubic = new Vector<float>(GeluCubic);
            var scale = new Vector<float>(GeluTanhScale);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var xv = new Vector<float>(x[i..]);
                var squared = xv * xv;
                squared.CopyTo(xSquared[i..]);
                ((squared * cubic + one) * xv * scale).CopyTo(argument[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float squared = x[i] * x[i];
            xSquared[i] = squared;
            argument[i] = (squared * GeluCubic + 1f) * x[i] * GeluTanhScale;
        }
    }

    /// <summary>y = ((t + 1)·x)·0.5 in one pass, rounded as three separate ones.</summary>
    private static void GeluFromTanh(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            var half = new Vector<float>(0.5f);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                ((new Vector<float>(t[i..]) + one) * new Vector<float>(x[i..]) * half).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = (t[i] + 1f) * x[i] * 0.5f;
    }

    /// <summary>gx (+)= g·s·(1 + x·(1 − s)), given s = sigmoid(x); g and gx may be one span.</summary>
    private static void SiluGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> sigmoid, ReadOnlySpan<float> g, Span<float> gx, bool accumulate)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var sv = new Vector<float>(sigmoid[i..]);
                var d = sv * (one + new Vector<float>(x[i..]) * (one - sv));
                ((accumulate ? new Vector<float>(gx[i..]) : Vector<float>.Zero) + new Vector<float>(g[i..]) * d).CopyTo(gx[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float sv = sigmoid[i];
            gx[i] = (accumulate ? gx[i] : 0f) + g[i] * sv * (1f + x[i] * (1f - sv));
        }
    }

    public override void Execute(int index)
    {
        int from = index * _chunk, to = Math.Min(_length, from + _chunk);
        var scratch = t_scratch ??= new float[2 * Block];
        for (int start = from; start < to; start += Block)
        {
            int n = Math.Min(Block, to - start);
            ReadOnlySpan<float> x = _x.AsSpan(start, n);
            Span<float> a = scratch.AsSpan(0, n), b = scratch.AsSpan(Block, n);
            if (_kind == Kind.GeluTanh)
            {
                // a = x², b = tanh(√(2/π)·x·(1 + 0.044715·x²))
                GeluTanhArgument(x, a, b);
                TensorPrimitives.Tanh(b, b);
                if (!_backward)
                {
                    GeluFromTanh(x, b, _y.AsSpan(start, n));
                    continue;
                }
                // d = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
                GeluTanhGradient(x, a, b, _g.AsSpan(start, n), _gx.AsSpan(start, n), _accumulate);
            }
            else
            {
                TensorPrimitives.Sigmoid(x, a);
                if (!_backward)
                {
                    TensorPrimitives.Multiply(x, a, _y.AsSpan(start, n));
                    continue;
                }
                // d = s·(1 + x·(1 − s))
                SiluGradient(x, a, _g.AsSpan(start, n), _gx.AsSpan(start, n), _accumulate);
            }
        }
    }
}
