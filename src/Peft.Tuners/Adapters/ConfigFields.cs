using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>
/// Reading adapter_config.json fields the way HF PEFT writes them, and reporting fields this
/// version does not know (a newer PEFT wrote them): a warning, never an error.
/// </summary>
internal static class ConfigFields
{
    /// <summary>Fields every PEFT config carries.</summary>
    private static readonly string[] Common = ["peft_type", "task_type", "inference_mode", "base_model_name_or_path", "revision", "auto_mapping"];

    /// <summary>An integer field: null when absent or null; anything but a whole number that fits an int is an error naming it.</summary>
    /// <exception cref="AdapterConfigException">The field holds something else (false, "8", 1.5, 1e12).</exception>
    public static int? Int(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        // TryGetInt32 throws on a value that is not a number at all, so the kind comes first (afl: "r": false).
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int value)) return value;
        throw new AdapterConfigException($"adapter_config.json: '{name}' must be a whole number; got {Shorten(v.GetRawText())}.");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    public static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    /// <summary>The <c>task_type</c> field, or null when absent (or null).</summary>
    public static ModelTask? TaskType(JsonElement root) => PeftTaskTypes.Parse(String(root, "task_type"));

    /// <summary>
    /// Reads <c>modules_to_save</c> (null when absent): a list of module names whose whole weights
    /// each adapter trains and saves a copy of (checked against the model when the adapter is attached).
    /// </summary>
    public static IReadOnlyList<string>? ModulesToSave(JsonElement root, string method)
    {
        if (!root.TryGetProperty("modules_to_save", out var modules) || modules.ValueKind == JsonValueKind.Null) return null;
        if (modules.ValueKind != JsonValueKind.Array) throw new AdapterConfigException($"{method} config: 'modules_to_save' must be a list of module names.");
        var names = new List<string>();
        foreach (var m in modules.EnumerateArray())
        {
            string? name = m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (string.IsNullOrWhiteSpace(name)) throw new AdapterConfigException($"{method} config: 'modules_to_save' must hold module names " +
                $"(non-empty strings); found {m.GetRawText()}.");
            names.Add(name);
        }
        return names;
    }

    /// <summary>The JSON of a <c>modules_to_save</c> list (null when there is none).</summary>
    public static JsonNode? ModulesToSaveJson(IReadOnlyList<string>? modules) =>
        modules is null ? null : new JsonArray(modules.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray());

    /// <summary>Calls <paramref name="warn"/> once per field that is neither common nor in <paramref name="known"/>.</summary>
    public static void WarnUnknown(JsonElement root, IReadOnlyCollection<string> known, Action<string>? warn)
    {
        if (warn is null) return;
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name) && Array.IndexOf(Common, p.Name) < 0)
                warn($"adapter_config.json: unknown field '{p.Name}' ignored (written by a newer PEFT?).");
    }
}
