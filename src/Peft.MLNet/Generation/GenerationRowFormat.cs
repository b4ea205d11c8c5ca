using Microsoft.ML;
using Peft.MLNet.Data;
using Peft.Tuners.Training;

namespace Peft.MLNet.Generation;

/// <summary>A generator's training rows: each prompt and completion made into an example (prompt labelled -100) as the cursor reaches it.</summary>
/// <param name="columns">Which columns to read.</param>
/// <param name="example">Tokenizes a prompt and its completion.</param>
internal sealed class GenerationRowFormat(GenerationColumns columns, Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>, TrainingExample> example)
    : RowFormat
{
    /// <inheritdoc/>
    public override IReadOnlyList<DataViewSchema.Column> Columns(DataViewSchema schema) =>
        [schema[columns.Prompt], schema[columns.Completion]];

    /// <inheritdoc/>
    public override IReadOnlyList<DataViewSchema.Column> FilterColumns(DataViewSchema schema) => [];

    /// <inheritdoc/>
    public override Func<bool>? Includer(DataViewRowCursor cursor) => null;

    /// <inheritdoc/>
    public override Func<TrainingExample> Reader(DataViewRowCursor cursor)
    {
        var getPrompt = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[columns.Prompt]);
        var getCompletion = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[columns.Completion]);
        ReadOnlyMemory<char> prompt = default, completion = default;
        return () =>
        {
            getPrompt(ref prompt);
            getCompletion(ref completion);
            return example(prompt, completion);
        };
    }
}
