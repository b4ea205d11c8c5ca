using System.Numerics.Tensors;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// The forward of LayerNorm and RMSNorm over rows split across the worker pool: rows are independent, and on the
/// calling thread alone a prompt's normalizations kept the other core idle. Each row's floats are those of the serial
/// loop (the same passes over the same row).
/// </summary>
internal sealed class NormalizeRowsTask : RangeTask
{
    // Below this many values a second thread costs more than the passes (~10 µs on one core).
    private const long ParallelValues = 1 << 16;

    [ThreadStatic] private static NormalizeRowsTask? t_instance;

    private float[] _x = [], _y = [], _stats = [];
    private float[]? _weight, _bias;
    private int _d;
    private float _epsilon;
    private bool _rms;

    /// <summary>y = normalize(x) per row of <paramref name="d"/> values; stats gets (mean, 1/std) per row.</summary>
    public static void Run(float[] x, float[] y, float[]? weight, float[]? bias, float[] stats, int rows, int d, float epsilon, bool rms)
    {
        var task = t_instance ??= new NormalizeRowsTask();
        (task._x, task._y, task._stats, task._weight, task._bias) = (x, y, stats, weight, bias);
        (task._d, task._epsilon, task._rms) = (d, epsilon, rms);
        task.RunOver(rows, 1, (long)rows * d >= ParallelValues ? WorkerPool.Degree : 1);
        (task._x, task._y, task._stats, task._weight, task._bias) = ([], [], [], null, null);
    }

    /// <inheritdoc />
    protected override void Run(int start, int end) => NormalizeRows(_x, _y, _weight, _bias, _stats, start, end, _d, _epsilon, _rms);

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
