namespace Peft.Cli.Data;

/// <summary>
/// A data file read whole into examples: JSONL (<c>.jsonl</c>/<c>.json</c>), CSV (<c>.csv</c>) or
/// TSV (<c>.tsv</c>), each row in one of <see cref="RecordFormats"/>, all rows of one kind.
/// </summary>
public static class DataFile
{
    /// <summary>Reads <paramref name="path"/>; a missing or empty file, a bad row or mixed kinds are usage errors naming the file (and line).</summary>
    /// <param name="command">The command, for messages.</param>
    /// <param name="path">The data file.</param>
    /// <param name="columns">Column renaming.</param>
    /// <param name="formats">The row formats (<see cref="RecordFormats.For"/>).</param>
    public static IReadOnlyList<TextExample> Read(string command, string path, ColumnMapping columns, IReadOnlyList<IRecordFormat> formats)
    {
        if (!File.Exists(path)) throw new UsageException($"{command}: data file not found: {path}");
        var records = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => CsvRecords.Read(path, ',', columns),
            ".tsv" or ".tab" => CsvRecords.Read(path, '\t', columns),
            _ => JsonlRecords.Read(path, columns),
        };
        var examples = new List<TextExample>();
        foreach (var record in records)
        {
            var example = RecordFormats.Of(record, formats).Read(record);
            if (examples.Count > 0 && examples[0].Kind != example.Kind)
                throw new UsageException($"{record.Location}: a {Describe(example.Kind)} row in a file of {Describe(examples[0].Kind)} rows " +
                    $"(from {examples[0].Location}); one file holds one kind.");
            examples.Add(example);
        }
        if (examples.Count == 0) throw new UsageException($"{path}: no data rows (the file is empty).");
        return examples;
    }

    /// <summary>A kind as its fields, for messages.</summary>
    public static string Describe(ExampleKind kind) => kind switch
    {
        ExampleKind.Completion => "{prompt, completion}",
        ExampleKind.Text => "{text}",
        ExampleKind.Classification => "{text, label}",
        ExampleKind.Chat => "{messages}",
        _ => "{source, target}",
    };
}
