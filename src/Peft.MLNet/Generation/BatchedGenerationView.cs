using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Generation;

/// <summary>
/// A fitted generator's output over many rows, generated a batch at a time: a cursor that needs the
/// generated column reads the next <c>batchSize</c> prompts through a second cursor over the
/// input (same rows, same order), generates them in one pass with one key/value cache, and serves
/// them as its main cursor reaches those rows. Every other column, and every cursor that does not
/// ask for the generated text, comes from the saved chain's own output, so the rows are exactly
/// what the chain gives one by one.
/// </summary>
internal sealed class BatchedGenerationView(IDataView input, IDataView chainOutput, GenerationRuntime runtime, GenerationColumns columns, int batchSize)
    : IDataView
{
    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema => chainOutput.Schema;

    /// <inheritdoc/>
    public long? GetRowCount() => chainOutput.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var output = Schema[columns.Output];
        var needed = columnsNeeded.ToList();
        if (!needed.Any(c => c.Index == output.Index)) return chainOutput.GetRowCursor(needed, rand);
        // In source order: the lookahead cursor must meet the same rows in the same order.
        var primary = chainOutput.GetRowCursor(needed.Where(c => c.Index != output.Index));
        return new Cursor(primary, input, runtime, columns.Prompt, columns.TaskId, output, batchSize);
    }

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewRowCursor primary, IDataView input, GenerationRuntime runtime, string promptColumn, string? taskColumn,
        DataViewSchema.Column output, int batchSize) : DataViewRowCursor
    {
        private DataViewRowCursor? _lookahead;
        private ValueGetter<ReadOnlyMemory<char>>? _getPrompt;
        private ValueGetter<int>? _getTask;
        private long _first = -1;
        private readonly List<string?> _texts = [];
        private readonly List<Exception?> _errors = [];

        public override DataViewSchema Schema => primary.Schema;

        public override long Position => primary.Position;

        public override long Batch => primary.Batch;

        public override bool MoveNext() => primary.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => primary.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => column.Index == output.Index || primary.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != output.Index) return primary.GetGetter<TValue>(column);
            if (typeof(TValue) != typeof(ReadOnlyMemory<char>))
                throw new InvalidOperationException($"Column '{output.Name}' is text (ReadOnlyMemory<char>), not {typeof(TValue).Name}.");
            ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) => value = Generated(primary.Position).AsMemory();
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        /// <summary>The text of row <paramref name="position"/>, generating its batch when it is not held yet.</summary>
        private string Generated(long position)
        {
            if (position < 0) throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
            if (_first < 0 || position < _first || position >= _first + _texts.Count) Fill(position);
            int i = (int)(position - _first);
            if (_errors[i] is { } error) throw new InvalidOperationException($"Row {position}: {error.Message}", error);
            return _texts[i]!;
        }

        /// <summary>Reads the prompts of rows <paramref name="position"/> onwards (up to the batch size) and generates them together.</summary>
        private void Fill(long position)
        {
            if (_lookahead is null || _lookahead.Position > position)
            {
                _lookahead?.Dispose();
                var promptInput = input.Schema[promptColumn];
                _lookahead = taskColumn is null ? input.GetRowCursor([promptInput]) : input.GetRowCursor([promptInput, input.Schema[taskColumn]]);
                _getPrompt = _lookahead.GetGetter<ReadOnlyMemory<char>>(promptInput);
                _getTask = taskColumn is null ? null : _lookahead.GetGetter<int>(input.Schema[taskColumn]);
            }
            while (_lookahead.Position < position)
                if (!_lookahead.MoveNext()) throw new InvalidOperationException($"The input has no row {position}; it changed while being read.");
            _first = position;
            _texts.Clear();
            _errors.Clear();
            var prompts = new List<IReadOnlyList<int>>();
            var tasks = new List<int>();
            var slots = new List<int>();
            ReadOnlyMemory<char> prompt = default;
            int task = 0;
            do
            {
                _getPrompt!(ref prompt);
                _getTask?.Invoke(ref task);
                try
                {
                    prompts.Add(runtime.EncodePrompt(prompt.Span));
                    tasks.Add(task);
                    slots.Add(_texts.Count);
                    _errors.Add(null);
                }
                catch (ArgumentException ex)
                {
                    _errors.Add(ex);
                }
                _texts.Add(null);
            }
            while (_texts.Count < batchSize && _lookahead.MoveNext());
            var texts = prompts.Count > 0 ? runtime.Generate(prompts, tasks) : [];
            for (int i = 0; i < texts.Length; i++) _texts[slots[i]] = texts[i];
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                primary.Dispose();
                _lookahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
