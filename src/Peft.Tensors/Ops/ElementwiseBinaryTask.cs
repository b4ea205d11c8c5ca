using System.Numerics.Tensors;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// y = a ∘ b over two same-shaped spans, split into chunks across the worker pool: a prompt's residual adds ran on the
/// calling thread alone while the other core waited. Every element is computed as by the serial call.
/// </summary>
internal sealed class ElementwiseBinaryTask : RangeTask
{
    // Below this many values a second thread costs more than the pass.
    private const int ParallelValues = 1 << 16;

    // Chunks start on whole cache lines.
    private const int ChunkAlignment = 16;

    [ThreadStatic] private static ElementwiseBinaryTask? t_instance;

    private float[] _a = [], _b = [], _y = [];
    private Ops.BinaryKind _kind;

    /// <summary>y[0..length) = a ∘ b elementwise.</summary>
    public static void Run(Ops.BinaryKind kind, float[] a, float[] b, float[] y, int length)
    {
        var task = t_instance ??= new ElementwiseBinaryTask();
        (task._kind, task._a, task._b, task._y) = (kind, a, b, y);
        task.RunOver(length, ChunkAlignment, length >= ParallelValues ? WorkerPool.Degree : 1);
        (task._a, task._b, task._y) = ([], [], []);
    }

    /// <inheritdoc />
    protected override void Run(int start, int end) =>
        Apply(_kind, _a.AsSpan(start, end - start), _b.AsSpan(start, end - start), _y.AsSpan(start, end - start));

    /// <summary>One serial pass of the operation.</summary>
    public static void Apply(Ops.BinaryKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (kind)
        {
            case Ops.BinaryKind.Add: TensorPrimitives.Add(a, b, y); break;
            case Ops.BinaryKind.Subtract: TensorPrimitives.Subtract(a, b, y); break;
            case Ops.BinaryKind.Multiply: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }
}
