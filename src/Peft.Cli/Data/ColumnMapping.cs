namespace Peft.Cli.Data;

/// <summary>
/// <c>--columns prompt=colA,completion=colB</c>: which column (or JSONL field) holds each field a
/// format reads. Fields not named keep their own name.
/// </summary>
public sealed class ColumnMapping
{
    private ColumnMapping(IReadOnlyDictionary<string, string> fieldToColumn) => FieldToColumn = fieldToColumn;

    /// <summary>Field name → column name.</summary>
    public IReadOnlyDictionary<string, string> FieldToColumn { get; }

    /// <summary>No renaming.</summary>
    public static ColumnMapping None { get; } = new(new Dictionary<string, string>());

    /// <summary>Parses <c>field=column,...</c>; a malformed pair is a usage error quoting it.</summary>
    public static ColumnMapping Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return None;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
                throw new UsageException($"--columns: '{pair}' is not field=column (e.g. --columns prompt=question,completion=answer).");
            string field = pair[..eq].Trim();
            if (!map.TryAdd(field, pair[(eq + 1)..].Trim())) throw new UsageException($"--columns: field '{field}' is mapped twice.");
        }
        return new(map);
    }

    /// <summary>The column that holds <paramref name="field"/>.</summary>
    public string ColumnOf(string field) => FieldToColumn.TryGetValue(field, out var c) ? c : field;
}
