using System.Text.Json;

namespace Peft.Cli.Data;

/// <summary><c>{"text": ..., "label": ...}</c>: sequence classification; labels are strings (numbers are taken as their text).</summary>
public sealed class LabeledTextFormat : IRecordFormat
{
    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["text", "label"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var label = record.Fields["label"]!;
        string text = label.GetValueKind() switch
        {
            JsonValueKind.String => label.GetValue<string>(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => label.ToJsonString(),
            _ => throw new UsageException($"{record.Location}: field 'label' must be a string or a number; got {DataRecord.Describe(label)}."),
        };
        return new(ExampleKind.Classification, record.String("text"), null, text, record.OptionalInt("task_id"), record.Location);
    }
}
