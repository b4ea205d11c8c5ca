using System.Numerics.Tensors;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// The forward of LayerNorm and RMSNorm over rows split across the worker pool: rows are independent, and on the
/// calling thread alone a prompt's normalizations kept the other core idle. Each row's floats are those of the serial
/// loop (the same passes over the same row).
/// </summary>
internal sealed class NormalizeRowsTask : ParallelTask
{
    // Below this many values a second thread costs more than the passes (~10 µs on one core).
    private const long ParallelValues = 1 << 16;

    [ThreadStatic] private static NormalizeRowsTask? t_instance;

    private float[] _x = [], _y = [], _stats = [], _weight = [], _bias = [];
    private int _d, _rows, _rowsPerChunk;
    private float _epsilon;
    private bool _rms, _hasWeight, _hasBias;

    /// <summary>y = normalize(x) per row of <paramref name="d"/> values; stats gets (mean, 1/std) per row.</summary>
    public static void Run(float[] x, float[] y, float[]? weight, float[]? bias, float[] stats, int rows, int d, float epsilon, bool rms)
    {
        int chunks = (long)rows * d >= ParallelValues ? Math.Min(WorkerPool.Degree, rows) : 1;
        if (chunks <= 1)
        {
            NormalizeRows(x, y, weight, bias, stats, 0, rows, d, epsilon, rms);
            return;
        }
        var task = t_instance ??= new NormalizeRowsTask();
        (task._x, task._y, task._stats, task._weight, task._bias) = (x, y, stats, weight ?? [], bias ?? []);
        (task._hasWeight, task._hasBias) = (weight is not null, bias is not null);
        (task._rows, task._d, task._epsilon, task._rms) = (rows, d, epsilon, rms);
        task._rowsPerChunk = (rows + chunks - 1) / chunks;
        WorkerPool.Run(task, (rows + task._rowsPerChunk - 1) / task._rowsPerChunk);
        (task._x, task._y, task._stats, task._weight, task._bias) = ([], [], [], [], []);
    }

    /// <inheritdoc />
    public override void Execute(int index)
    {
        int r0 = index * _rowsPerChunk;
        NormalizeRows(_x, _y, _hasWeight ? _weight : null, _hasBias ? _bias : null, _stats, r0, Math.Min(_rows, r0 + _rowsPerChunk), _d, _epsilon, _rms);
    }

    private static void NormalizeRows(float[] x, float[] y, float[]? weight, float[]? bias, float[] stats, int r0, int r1, int d, float epsilon, bool rms)
    {
        ReadOnlySpan<float> w = weight is null ? default : weight.AsSpan(0, d);
        ReadOnlySpan<float> b = bias is null ? default : bias.AsSpan(0, d);
        for (int r = r0; r < r1; r++)
        {
            var xr = x.AsSpan(r * d, d);
            var yr = y.AsSpan(r * d, d);
            float mean = rms ? 0f : TensorPrimitives.Sum(xr) / d;
            float variance;
            if (rms) variance = TensorPrimitives.SumOfSquares(xr) / d;
            else
            {
                TensorPrimitives.Subtract(xr, mean, yr);
                variance = TensorPrimitives.SumOfSquares(yr) / d;
            }
            float rstd = 1f / MathF.Sqrt(variance + epsilon);
            stats[2 * r] = mean;
            stats[2 * r + 1] = rstd;
            if (rms) TensorPrimitives.Multiply(xr, rstd, yr);
            else TensorPrimitives.Multiply(yr, rstd, yr);
            if (!w.IsEmpty) TensorPrimitives.Multiply(yr, w, yr);
            if (!b.IsEmpty) TensorPrimitives.Add(yr, b, yr);
        }
    }
}
