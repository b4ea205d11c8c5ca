using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Data;

/// <summary>A data view with a schema and no rows: what fitting a chain of transforms needs when only the input's shape matters.</summary>
internal sealed class SchemaOnlyDataView(DataViewSchema schema) : IDataView
{
    /// <inheritdoc/>
    public bool CanShuffle => true;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; } = schema;

    /// <inheritdoc/>
    public long? GetRowCount() => 0;

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new EmptyCursor(Schema);

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new EmptyCursor(Schema)];

    private sealed class EmptyCursor(DataViewSchema schema) : DataViewRowCursor
    {
        public override DataViewSchema Schema { get; } = schema;

        public override long Position => -1;

        public override long Batch => 0;

        public override bool MoveNext() => false;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => throw new InvalidOperationException("The view has no rows.");

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            (ref TValue value) => throw new InvalidOperationException("The view has no rows.");

        public override bool IsColumnActive(DataViewSchema.Column column) => true;
    }
}
