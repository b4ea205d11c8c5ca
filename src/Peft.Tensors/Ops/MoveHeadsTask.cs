using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// The forward copies of <see cref="Ops.SplitHeads"/> and <see cref="Ops.MergeHeads"/> with the (batch row, head) pairs
/// split across the worker pool: on the calling thread alone a prompt's copies (9 MB per layer at 8 × 128 tokens) kept
/// the other core idle.
/// </summary>
internal sealed class MoveHeadsTask : RangeTask
{
    // Below this many values a second thread costs more than the copy.
    private const long ParallelValues = 1 << 16;

    [ThreadStatic] private static MoveHeadsTask? t_instance;

    private float[] _flat = [], _headLayout = [];
    private int _length, _width, _start, _heads, _headDim;
    private bool _toHeads;

    /// <summary>Copies between the flat layout [batch, length, width] (columns from start) and [batch, heads, length, headDim].</summary>
    public static void Run(float[] flat, float[] headLayout, int batch, int length, int width, int start, int heads, int headDim, bool toHeads)
    {
        int pairs = batch * heads;
        var task = t_instance ??= new MoveHeadsTask();
        (task._flat, task._headLayout, task._length, task._width, task._start, task._heads, task._headDim, task._toHeads) =
            (flat, headLayout, length, width, start, heads, headDim, toHeads);
        task.RunOver(pairs, 1, (long)pairs * length * headDim >= ParallelValues ? WorkerPool.Degree : 1);
        (task._flat, task._headLayout) = ([], []);
    }

    /// <inheritdoc />
    protected override void Run(int start, int end)
    {
        for (int pair = start; pair < end; pair++)
            Ops.MoveHead(_flat, _headLayout, pair, _length, _width, _start, _heads, _headDim, _toHeads, accumulate: false);
    }
}
