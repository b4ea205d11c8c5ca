namespace Peft.Cli.Data;

/// <summary>
/// One data format: the fields that identify it and how a row of it becomes a
/// <see cref="TextExample"/>. <see cref="RecordFormats"/> lists them; a new format is one class.
/// </summary>
public interface IRecordFormat
{
    /// <summary>The fields a row of this format has (all of them); used to recognize the format.</summary>
    IReadOnlyList<string> Fields { get; }

    /// <summary>Reads a row; a bad value is a <see cref="UsageException"/> naming the file, line and field.</summary>
    TextExample Read(DataRecord record);
}
