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
    private bool _backward;
    private float[] _x = [], _y = [], _g = [], _gx = [];
    private int _length, _chunk;

    /// <summary>y = activation(x).</summary>
    public static void Forward(Kind kind, float[] x, float[] y, int length) => Run(kind, false, x, y, [], [], length);

    /// <summary>gx += g · activation'(x).</summary>
    public static void Backward(Kind kind, float[] x, float[] g, float[] gx, int length) => Run(kind, true, x, [], g, gx, length);

    private static void Run(Kind kind, bool backward, float[] x, float[] y, float[] g, float[] gx, int length)
    {
        var task = t_task ??= new ActivationKernels();
        task._kind = kind;
        task._backward = backward;
        (task._x, task._y, task._g, task._gx, task._length) = (x, y, g, gx, length);
        int pieces = length >= ParallelThreshold ? WorkerPool.Degree : 1;
        task._chunk = (length + pieces - 1) / pieces;
        task._chunk = (task._chunk + Block - 1) / Block * Block;
        if (pieces == 1) task.Execute(0);
        else WorkerPool.Run(task, (length + task._chunk - 1) / task._chunk);
        (task._x, task._y, task._g, task._gx) = ([], [], [], []);
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
                TensorPrimitives.Multiply(x, x, a);
                TensorPrimitives.Multiply(a, GeluCubic, b);
                TensorPrimitives.Add(b, 1f, b);
                TensorPrimitives.Multiply(b, x, b);
                TensorPrimitives.Multiply(b, GeluTanhScale, b);
                TensorPrimitives.Tanh(b, b);
                if (!_backward)
                {
                    // y = 0.5·x·(1 + t)
                    var y = _y.AsSpan(start, n);
                    TensorPrimitives.Add(b, 1f, y);
                    TensorPrimitives.Multiply(y, x, y);
                    TensorPrimitives.Multiply(y, 0.5f, y);
                    continue;
                }
                // d = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
                var g = _g.AsSpan(start, n);
                var gx = _gx.AsSpan(start, n);
                for (int i = 0; i < n; i++)
                {
                    float t = b[i], v = x[i];
                    float d = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * GeluTanhScale * (1f + 3f * GeluCubic * a[i]);
                    gx[i] += g[i] * d;
                }
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
                var g = _g.AsSpan(start, n);
                var gx = _gx.AsSpan(start, n);
                for (int i = 0; i < n; i++)
                {
                    float s = a[i];
                    gx[i] += g[i] * s * (1f + x[i] * (1f - s));
                }
            }
        }
    }
}
