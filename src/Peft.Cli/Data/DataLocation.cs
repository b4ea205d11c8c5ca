namespace Peft.Cli.Data;

/// <summary>Where a record came from, for messages: <c>file:line</c>.</summary>
/// <param name="File">The data file as given on the command line.</param>
/// <param name="Line">1-based line (for CSV/TSV, the line the record starts on).</param>
public sealed record DataLocation(string File, int Line)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}";
}
