namespace Peft.Cli.Data;

/// <summary>The data formats, most specific first: a row is read by the first whose fields it has.</summary>
public static class RecordFormats
{
    /// <summary>Every format for data meant for the model in <paramref name="modelFolder"/>, in recognition order.</summary>
    public static IReadOnlyList<IRecordFormat> For(string? modelFolder) =>
        [new MessagesFormat(modelFolder), new PromptCompletionFormat(), new SourceTargetFormat(), new LabeledTextFormat(), new TextFormat()];

    /// <summary>The format of <paramref name="record"/> among <paramref name="formats"/>; none is a usage error listing what it has and what is expected.</summary>
    public static IRecordFormat Of(DataRecord record, IReadOnlyList<IRecordFormat> formats)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(formats);
        return formats.FirstOrDefault(f => f.Fields.All(record.Has))
            ?? throw new UsageException($"{record.Location}: a row needs the fields " +
                string.Join(" or ", formats.Select(f => "{" + string.Join(", ", f.Fields) + "}")) +
                $"; this one has {(record.Fields.Count == 0 ? "none" : "{" + string.Join(", ", record.Fields.Select(f => f.Key)) + "}")}.");
    }
}
