using Microsoft.ML;
using Peft.Tensors;
using Peft.Tuners.Training;

namespace Peft.MLNet.Data;

/// <summary>
/// An IDataView as the engine's Trainer reads it, streamed: a counting pass first (no tokenizing),
/// then one cursor per epoch that tokenizes rows as it reads them and shuffles them through a
/// buffer of at most <c>shuffleBufferSize</c> rows, so memory holds the buffer and the batch in
/// training, never the whole data. The same seed gives the same order, so a run is reproducible.
/// </summary>
internal sealed class DataViewTrainingData : TrainingData
{
    private readonly IDataView _data;
    private readonly RowFormat _format;
    private readonly int _shuffleBufferSize;

    /// <summary>Counts the rows of <paramref name="data"/> that take part (a pass reading only the filter columns).</summary>
    /// <param name="data">The rows.</param>
    /// <param name="format">How rows become examples.</param>
    /// <param name="shuffleBufferSize">Rows held to shuffle a pass (the whole data when it is at most this many rows).</param>
    /// <param name="cancellationToken">Checked while counting.</param>
    public DataViewTrainingData(IDataView data, RowFormat format, int shuffleBufferSize, CancellationToken cancellationToken)
    {
        _data = data;
        _format = format;
        _shuffleBufferSize = shuffleBufferSize;
        long rows = 0, taking = 0;
        var filter = format.FilterColumns(data.Schema);
        if (filter.Count == 0 && data.GetRowCount() is long known) rows = taking = known;
        else
        {
            using var cursor = data.GetRowCursor(filter);
            var include = format.Includer(cursor);
            while (cursor.MoveNext())
            {
                if ((rows & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                rows++;
                if (include is null || include()) taking++;
            }
        }
        if (taking > int.MaxValue) throw new InvalidOperationException($"The data has {taking} rows; at most {int.MaxValue} train in one Fit.");
        Count = (int)taking;
        Skipped = rows - taking;
    }

    /// <inheritdoc/>
    public override int Count { get; }

    /// <summary>Rows the format left out (e.g. without a label).</summary>
    public long Skipped { get; }

    /// <inheritdoc/>
    public override IEnumerable<IndexedExample> Read(ulong? shuffleSeed, CancellationToken cancellationToken = default)
    {
        if (shuffleSeed is not ulong seed)
        {
            foreach (var row in Stream(cancellationToken)) yield return row;
            yield break;
        }
        // A shuffle buffer: each arriving row takes a random slot and the row it displaces goes out.
        var random = new SeededRandom(seed);
        var buffer = new IndexedExample[Math.Max(1, Math.Min(_shuffleBufferSize, Count))];
        int filled = 0;
        foreach (var row in Stream(cancellationToken))
        {
            if (filled < buffer.Length)
            {
                buffer[filled++] = row;
                continue;
            }
            int slot = random.NextInt(buffer.Length);
            yield return buffer[slot];
            buffer[slot] = row;
        }
        for (int i = filled - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (buffer[i], buffer[j]) = (buffer[j], buffer[i]);
        }
        for (int i = 0; i < filled; i++) yield return buffer[i];
    }

    /// <summary>The rows that take part, in source order, each tokenized as the cursor reaches it.</summary>
    private IEnumerable<IndexedExample> Stream(CancellationToken cancellationToken)
    {
        using var cursor = _data.GetRowCursor(_format.Columns(_data.Schema));
        var include = _format.Includer(cursor);
        var read = _format.Reader(cursor);
        long index = -1;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            index++;
            if (include is not null && !include()) continue;
            yield return new IndexedExample(index, ReadRow(read, index));
        }
    }

    private static TrainingExample ReadRow(Func<TrainingExample> read, long index)
    {
        try
        {
            return read();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"Row {index} of the data: {ex.Message}", ex);
        }
    }
}
