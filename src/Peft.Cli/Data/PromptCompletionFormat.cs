namespace Peft.Cli.Data;

/// <summary><c>{"prompt": ..., "completion": ...}</c>: the loss is on the completion only.</summary>
public sealed class PromptCompletionFormat : IRecordFormat
{
    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["prompt", "completion"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(ExampleKind.Completion, record.String("prompt"), record.String("completion"), null, record.OptionalInt("task_id"), record.Location);
    }
}
