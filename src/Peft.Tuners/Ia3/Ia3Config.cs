using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Ia3;

/// <summary>
/// IA3 settings with HF PEFT's field names (<c>IA3Config</c>): <c>target_modules</c> get a learned
/// scaling vector; those also in <c>feedforward_modules</c> scale their input, the others their output.
/// </summary>
public sealed record Ia3Config : IModulesToSaveConfig
{
    /// <inheritdoc/>
    public string PeftType => "IA3";

    /// <inheritdoc/>
    JsonObject IPeftConfig.ToJson(ModelConfig model) => ToJson();

    /// <summary>Which linear layers are scaled.</summary>
    public required TargetModules TargetModules { get; init; }

    /// <summary>Targets whose input (rather than output) is scaled; must be a subset of the targets.</summary>
    public required TargetModules FeedforwardModules { get; init; }

    /// <summary>The base layer stores its weight [in, out] (GPT-2 Conv1D).</summary>
    public bool FanInFanOut { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>
    /// Base modules whose whole weights the adapter trains and saves as its own copy (see
    /// <see cref="Lora.LoraConfig.ModulesToSave"/>); null for none.
    /// </summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    private static readonly HashSet<string> KnownFields = ["target_modules", "feedforward_modules", "fan_in_fan_out", "init_ia3_weights", "modules_to_save"];

    /// <summary>Reads an IA3 adapter_config.json object.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="warn">Receives a message per unknown field (a newer PEFT's), which is otherwise ignored.</param>
    public static Ia3Config FromJson(JsonElement root, Action<string>? warn = null)
    {
        ConfigFields.WarnUnknown(root, KnownFields, warn);
        var modulesToSave = ConfigFields.ModulesToSave(root, "IA3");
        if (!root.TryGetProperty("target_modules", out var tm) || tm.ValueKind == JsonValueKind.Null)
            throw new AdapterConfigException("IA3 config: 'target_modules' is required.");
        var ff = root.TryGetProperty("feedforward_modules", out var f) && f.ValueKind != JsonValueKind.Null
            ? TargetModules.Parse(f, "feedforward_modules") : TargetModules.FromNames();
        return new Ia3Config
        {
            TargetModules = TargetModules.Parse(tm, "target_modules"),
            FeedforwardModules = ff,
            FanInFanOut = root.TryGetProperty("fan_in_fan_out", out var fi) && fi.ValueKind == JsonValueKind.True,
            TaskType = ConfigFields.TaskType(root),
            ModulesToSave = modulesToSave,
        };
    }

    /// <summary>The adapter_config.json object PEFT would write.</summary>
    public JsonObject ToJson() => new()
    {
        ["auto_mapping"] = null,
        ["base_model_name_or_path"] = null,
        ["fan_in_fan_out"] = FanInFanOut,
        ["feedforward_modules"] = Json(FeedforwardModules),
        ["inference_mode"] = true,
        ["init_ia3_weights"] = true,
        ["modules_to_save"] = ConfigFields.ModulesToSaveJson(ModulesToSave),
        ["peft_type"] = "IA3",
        ["revision"] = null,
        ["target_modules"] = Json(TargetModules),
        ["task_type"] = PeftTaskTypes.ToJson(TaskType),
    };

    private static JsonNode Json(TargetModules t) =>
        t.Pattern is { } p ? JsonValue.Create(p) : new JsonArray(t.Names.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
}
