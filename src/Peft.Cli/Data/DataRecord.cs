using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Cli.Data;

/// <summary>One row of a data file as named fields (a JSONL object, or a CSV row under its mapped column names).</summary>
/// <param name="Fields">The row's fields.</param>
/// <param name="Location">Where it came from.</param>
public sealed record DataRecord(JsonObject Fields, DataLocation Location)
{
    /// <summary>Whether the row has <paramref name="field"/> (a JSON null counts as absent).</summary>
    public bool Has(string field) => Fields[field] is not null;

    /// <summary>A string field; anything else is a usage error naming the file, line and field.</summary>
    public string String(string field)
    {
        var node = Fields[field] ?? throw new UsageException($"{Location}: field '{field}' is missing.");
        return node.GetValueKind() == JsonValueKind.String
            ? node.GetValue<string>()
            : throw new UsageException($"{Location}: field '{field}' must be a string; got {Describe(node)}.");
    }

    /// <summary>An optional non-negative integer field (a JSON number or, from CSV, its text).</summary>
    public int? OptionalInt(string field)
    {
        var node = Fields[field];
        if (node is null) return null;
        if (node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue(out int n) && n >= 0) return n;
        if (node.GetValueKind() == JsonValueKind.String && int.TryParse(node.GetValue<string>(), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out n)) return n;
        throw new UsageException($"{Location}: field '{field}' must be a non-negative integer; got {Describe(node)}.");
    }

    /// <summary>A field's JSON kind in words, for messages.</summary>
    public static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {node.ToJsonString()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => node.ToJsonString(),
    };
}
