using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Turns System.Text.Json nodes into the values Python's <c>json.loads</c> gives: dicts keep key order, numbers written
/// without a fraction or exponent are ints, the rest floats, null is None.
/// </summary>
internal static class PyJsonInput
{
    public static object? Convert(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject obj:
                var dict = new PyDict();
                foreach (var (key, value) in obj) dict.Set(key, Convert(value));
                return dict;
            case JsonArray array:
                return array.Select(Convert).ToList();
            case JsonValue value:
                return ConvertValue(value);
            default:
                throw new ArgumentException($"unsupported JSON node {node.GetType().Name}");
        }
    }

    private static object? ConvertValue(JsonValue value)
    {
        if (value.TryGetValue(out string? s)) return s;
        if (value.TryGetValue(out bool b)) return b;
        if (value.TryGetValue(out JsonElement element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                JsonValueKind.Number => Number(element.GetRawText()),
                _ => Convert(JsonNode.Parse(element.GetRawText())),
            };
        }
        // Values created from .NET numbers (JsonValue.Create(2), JsonValue.Create(12.5)) keep their CLR type.
        if (value.TryGetValue(out long l)) return l;
        if (value.TryGetValue(out int i)) return (long)i;
        if (value.TryGetValue(out double d)) return d;
        if (value.TryGetValue(out float f)) return (double)f;
        if (value.TryGetValue(out decimal m)) return Number(m.ToString(CultureInfo.InvariantCulture));
        // Any other CLR value (a char, a DateTime, ...): take it as the JSON it serializes to.
        var reparsed = JsonNode.Parse(value.ToJsonString());
        return reparsed is JsonValue reparsedValue && reparsedValue.TryGetValue(out JsonElement _) ? ConvertValue(reparsedValue) : Convert(reparsed);
    }

    private static object Number(string text)
    {
        bool isInteger = text.IndexOfAny(['.', 'e', 'E']) < 0;
        if (isInteger && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
