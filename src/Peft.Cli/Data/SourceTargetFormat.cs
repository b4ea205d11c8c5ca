namespace Peft.Cli.Data;

/// <summary><c>{"source": ..., "target": ...}</c>: sequence to sequence (T5); on a decoder-only model, as prompt and completion.</summary>
public sealed class SourceTargetFormat : IRecordFormat
{
    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["source", "target"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(ExampleKind.Seq2Seq, record.String("source"), record.String("target"), null, record.OptionalInt("task_id"), record.Location);
    }
}
