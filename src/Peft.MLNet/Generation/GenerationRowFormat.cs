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
        columns.TaskId is { } task
            ? [schema[columns.Prompt], schema[columns.Completion], schema[task]]
            : [schema[columns.Prompt], schema[columns.Completion]];

    /// <inheritdoc/>
    public override IReadOnlyList<DataViewSchema.Column> FilterColumns(DataViewSchema schema) => [];

    /// <inheritdoc/>
    public override Func<bool>? Includer(DataViewRowCursor cursor) => null;

    /// <inheritdoc/>
    public override Func<TrainingExample> Reader(DataViewRowCursor cursor)
    {
        var getPrompt = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[columns.Prompt]);
        var getCompletion = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[columns.Completion]);
        var getTask = columns.TaskId is { } taskColumn ? cursor.GetGetter<int>(cursor.Schema[taskColumn]) : null;
        ReadOnlyMemory<char> prompt = default, completion = default;
        int task = 0;
        return () =>
        {
            getPrompt(ref prompt);
            getCompletion(ref completion);
            if (getTask is null) return example(prompt, completion);
            getTask(ref task);
            return example(prompt, completion) with { TaskId = task };
        };
    }
}
