namespace Peft.Tuners.Training;

/// <summary>
/// The Trainer's cursor over one pass of its data: opened per epoch (shuffled by the run's seed and
/// the epoch, so step s always sees the same rows), read a micro-batch at a time, and checked to
/// give exactly the count the data promised.
/// </summary>
internal sealed class EpochReader(TrainingData data, ulong? seed, CancellationToken cancellationToken) : IDisposable
{
    private IEnumerator<IndexedExample>? _rows;
    private int _read;

    /// <summary>The epoch of the open pass, or -1 before the first.</summary>
    public int Epoch { get; private set; } = -1;

    /// <summary>Starts the pass of <paramref name="epoch"/> and skips its first <paramref name="skip"/> rows (a resumed run's steps already taken).</summary>
    public void Open(int epoch, int skip)
    {
        _rows?.Dispose();
        ulong? passSeed = seed is ulong s ? s * 1_000_003UL + (ulong)epoch : null;
        _rows = data.Read(passSeed, cancellationToken).GetEnumerator();
        Epoch = epoch;
        _read = 0;
        for (int i = 0; i < skip; i++) Next();
    }

    /// <summary>The next <paramref name="count"/> rows of the pass.</summary>
    /// <exception cref="InvalidDataException">The pass ended early.</exception>
    public List<IndexedExample> Take(int count)
    {
        var rows = new List<IndexedExample>(count);
        for (int i = 0; i < count; i++) rows.Add(Next());
        return rows;
    }

    /// <summary>Checks that the pass has no rows beyond the count.</summary>
    /// <exception cref="InvalidDataException">It has.</exception>
    public void Finish()
    {
        if (_rows!.MoveNext())
            throw new InvalidDataException(
                $"Pass {Epoch + 1} over the data gave more rows than its count of {data.Count}; a source must give the same rows on every pass.");
    }

    private IndexedExample Next()
    {
        if (_rows is null) throw new InvalidOperationException("No pass is open.");
        if (!_rows.MoveNext())
            throw new InvalidDataException(
                $"Pass {Epoch + 1} over the data ended after {_read} rows but its count is {data.Count}; a source must give the same rows on every pass.");
        _read++;
        return _rows.Current;
    }

    public void Dispose() => _rows?.Dispose();
}
