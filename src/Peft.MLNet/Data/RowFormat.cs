using Microsoft.ML;
using Peft.Tuners.Training;

namespace Peft.MLNet.Data;

/// <summary>
/// How a trainer turns a row of an IDataView into a training example: which columns it reads, a
/// cheap test of whether a row takes part (counted before training without tokenizing), and the
/// tokenizing read itself.
/// </summary>
internal abstract class RowFormat
{
    /// <summary>Every column <see cref="Reader"/> reads.</summary>
    public abstract IReadOnlyList<DataViewSchema.Column> Columns(DataViewSchema schema);

    /// <summary>The columns <see cref="Includer"/> reads (none when every row takes part).</summary>
    public abstract IReadOnlyList<DataViewSchema.Column> FilterColumns(DataViewSchema schema);

    /// <summary>Whether the cursor's current row takes part (e.g. it has a label), or null when every row does.</summary>
    public abstract Func<bool>? Includer(DataViewRowCursor cursor);

    /// <summary>Reads and tokenizes the cursor's current row; throws <see cref="ArgumentException"/> for a row it cannot use.</summary>
    public abstract Func<TrainingExample> Reader(DataViewRowCursor cursor);
}
