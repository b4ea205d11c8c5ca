namespace Peft.Tensors.Threading;

/// <summary>
/// Work over [0, extent) cut into one chunk of whole units per thread and run on the worker pool (serially on the
/// calling thread for one thread): the shape of the elementwise tasks that take a pass off the calling thread alone.
/// </summary>
internal abstract class RangeTask : ParallelTask
{
    private int _extent, _chunk;

    /// <inheritdoc />
    public sealed override void Execute(int index)
    {
        int start = index * _chunk;
        Run(start, Math.Min(_extent, start + _chunk));
    }

    /// <summary>Runs <see cref="Run"/> over [0, <paramref name="extent"/>) in up to <paramref name="threads"/> chunks of whole units.</summary>
    protected void RunOver(int extent, int unit, int threads)
    {
        int units = (extent + unit - 1) / unit;
        if (units == 0) return;
        int chunks = Math.Clamp(threads, 1, units);
        int perChunk = (units + chunks - 1) / chunks;
        _extent = extent;
        _chunk = perChunk * unit;
        int count = (units + perChunk - 1) / perChunk;
        if (count == 1) Run(0, extent);
        else WorkerPool.Run(this, count);
    }

    /// <summary>Does [start, end) of the range.</summary>
    protected abstract void Run(int start, int end);
}
