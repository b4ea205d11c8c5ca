namespace Peft.Tensors.Kernels;

/// <summary>
/// Where a weight keeps its <see cref="LogitScreen"/>: made on the first request past a number of warm-up requests (a
/// short generation never pays for it), then kept; a weight whose values admit no screen is not tried again.
/// </summary>
internal sealed class LogitScreenSlot
{
    private LogitScreen? _screen;
    private volatile bool _decided;
    private int _requests;

    /// <summary>The screen of the [rows, k] weight <paramref name="source"/> reads, or null while warming up or when none can be made.</summary>
    public LogitScreen? Get(int warmUses, int rows, int k, LogitScreen.RowSource source)
    {
        if (!_decided && Interlocked.Increment(ref _requests) > warmUses)
        {
            // Racing threads may each build one; every one is the same.
            _screen = LogitScreen.Build(rows, k, source);
            _decided = true;
        }
        return _screen;
    }
}
