using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Shared;

/// <summary>
/// JSON text read as a <see cref="JsonNode"/> with repeated keys rejected at parse, as invalid JSON. A JsonObject holding a
/// repeated key only fails when first read (an ArgumentException far from the file). Compiled into each library that
/// reads JSON files (linked source, internal).
/// </summary>
internal static class StrictJson
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="JsonException">Not valid JSON, or an object repeats a key.</exception>
    public static JsonNode? Parse(string text, bool allowTrailingCommas = false)
    {
#if NET9_0_OR_GREATER
        return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = allowTrailingCommas, AllowDuplicateProperties = false });
#else
        var options = new JsonDocumentOptions { AllowTrailingCommas = allowTrailingCommas };
        using (var document = JsonDocument.Parse(text, options)) RejectRepeatedKeys(document.RootElement);
        return JsonNode.Parse(text, documentOptions: options);
#endif
    }

#if !NET9_0_OR_GREATER
    // What .NET 9's AllowDuplicateProperties = false checks, for net8.0.
    private static void RejectRepeatedKeys(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw new JsonException($"Duplicate property '{property.Name}'.");
                RejectRepeatedKeys(property.Value);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
            foreach (var item in element.EnumerateArray()) RejectRepeatedKeys(item);
    }
#endif

    /// <summary>
    /// The message of the first string in <paramref name="node"/> that cannot be read as .NET text, or null when every one
    /// can. The parser checks structure, not the \u escapes inside strings, and a lone surrogate (half a character, which
    /// Python's json accepts) would otherwise fail with an InvalidOperationException wherever the field is first read.
    /// </summary>
    public static string? UnreadableString(JsonNode? node)
    {
        try
        {
            Visit(node);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }

        static void Visit(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (_, value) in obj) Visit(value);
                    break;
                case JsonArray array:
                    foreach (var item in array) Visit(item);
                    break;
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    _ = value.GetValue<string>();
                    break;
            }
        }
    }
}
