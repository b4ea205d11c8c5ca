using Peft.Cli;
using Peft.Cli.Data;

namespace Peft.Fuzz;

/// <summary>The CLI's training data files: JSONL and CSV rows read into examples, as <c>peft train --data</c> reads them.</summary>
public static class DataFileTarget
{
    /// <summary>A JSONL file.</summary>
    public static FuzzTarget Jsonl { get; } = new("jsonl", [typeof(UsageException)], input => Read(input, "data.jsonl"));

    /// <summary>A CSV file.</summary>
    public static FuzzTarget Csv { get; } = new("csv", [typeof(UsageException)], input => Read(input, "data.csv"));

    private static void Read(byte[] input, string name) => FuzzInput.InScratchFolder(folder =>
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, input);
        _ = DataFile.Read("train", path, ColumnMapping.None, RecordFormats.For(null));
    });
}
