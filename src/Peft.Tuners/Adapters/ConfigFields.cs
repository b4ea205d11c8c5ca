using System.Text.Json;

namespace Peft.Tuners.Adapters;

/// <summary>
/// Reading adapter_config.json fields the way HF PEFT writes them, and reporting fields this
/// version does not know (a newer PEFT wrote them): a warning, never an error.
/// </summary>
internal static class ConfigFields
{
    /// <summary>Fields every PEFT config carries.</summary>
    private static readonly string[] Common = ["peft_type", "task_type", "inference_mode", "base_model_name_or_path", "revision", "auto_mapping"];

    public static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    public static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    public static string TaskType(JsonElement root) => String(root, "task_type") ?? "CAUSAL_LM";

    /// <summary>Calls <paramref name="warn"/> once per field that is neither common nor in <paramref name="known"/>.</summary>
    public static void WarnUnknown(JsonElement root, IReadOnlyCollection<string> known, Action<string>? warn)
    {
        if (warn is null) return;
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name) && Array.IndexOf(Common, p.Name) < 0)
                warn($"adapter_config.json: unknown field '{p.Name}' ignored (written by a newer PEFT?).");
    }
}
