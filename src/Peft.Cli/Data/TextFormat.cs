namespace Peft.Cli.Data;

/// <summary><c>{"text": ...}</c>: causal language modelling on every token.</summary>
public sealed class TextFormat : IRecordFormat
{
    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["text"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(ExampleKind.Text, record.String("text"), null, null, record.OptionalInt("task_id"), record.Location);
    }
}
