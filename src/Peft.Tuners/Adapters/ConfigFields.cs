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

    /// <summary>
    /// Checks <c>modules_to_save</c>: the classification heads a PeftModel keeps per adapter are
    /// supported; other modules (e.g. lm_head) are an error naming them.
    /// </summary>
    public static void CheckModulesToSave(JsonElement root, string method)
    {
        if (!root.TryGetProperty("modules_to_save", out var modules) || modules.ValueKind == JsonValueKind.Null) return;
        if (modules.ValueKind != JsonValueKind.Array) throw new AdapterConfigException($"{method} config: 'modules_to_save' must be a list of module names.");
        foreach (var m in modules.EnumerateArray())
        {
            string name = m.GetString() ?? "";
            if (!AdapterFiles.ClassificationModules.Contains(name))
                throw new AdapterConfigException($"{method} config: 'modules_to_save' names '{name}'; supported: the classification heads {string.Join(", ", AdapterFiles.ClassificationModules)}.");
        }
    }

    /// <summary>Calls <paramref name="warn"/> once per field that is neither common nor in <paramref name="known"/>.</summary>
    public static void WarnUnknown(JsonElement root, IReadOnlyCollection<string> known, Action<string>? warn)
    {
        if (warn is null) return;
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name) && Array.IndexOf(Common, p.Name) < 0)
                warn($"adapter_config.json: unknown field '{p.Name}' ignored (written by a newer PEFT?).");
    }
}
