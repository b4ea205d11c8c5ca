using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Lora;

/// <summary>
/// LoRA settings with HF PEFT's field names and defaults (<c>LoraConfig</c>): rank <c>r</c>,
/// <c>lora_alpha</c>, <c>lora_dropout</c>, <c>target_modules</c>, <c>use_rslora</c>,
/// <c>fan_in_fan_out</c>, <c>bias</c>. The update is scaling·B·A with scaling = alpha/r
/// (alpha/√r with rsLoRA).
/// </summary>
public sealed record LoraConfig : IModulesToSaveConfig
{
    /// <inheritdoc/>
    public string PeftType => "LORA";

    /// <inheritdoc/>
    JsonObject IPeftConfig.ToJson(ModelConfig model) => ToJson();

    /// <summary>Rank of the update.</summary>
    public int R { get; init; } = 8;

    /// <summary>Scale numerator.</summary>
    public float LoraAlpha { get; init; } = 8f;

    /// <summary>Dropout on the adapter's input during training.</summary>
    public float LoraDropout { get; init; }

    /// <summary>Which linear layers get an adapter.</summary>
    public required TargetModules TargetModules { get; init; }

    /// <summary>Rank-stabilized scaling alpha/√r.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>The base layer stores its weight [in, out] (GPT-2 Conv1D); only affects merging in PEFT.</summary>
    public bool FanInFanOut { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>How A and B start (PEFT's <c>init_lora_weights</c>: true, "gaussian" or false).</summary>
    public LoraInit InitLoraWeights { get; init; } = LoraInit.KaimingUniform;

    /// <summary>
    /// PEFT's <c>bias</c>: "none" (default), "all" (every bias of the base model trains with the
    /// adapter) or "lora_only" (the biases of the adapted layers). Here each adapter trains its own
    /// copy of those biases, saved with it, so turning the adapter off gives the base model back
    /// (in PEFT the base's biases themselves change).
    /// </summary>
    public LoraBias Bias { get; init; } = LoraBias.None;

    /// <summary>
    /// Base modules (names as HF gives them, e.g. <c>lm_head</c>, <c>embed_tokens</c>, <c>ln_f</c>)
    /// whose whole weights the adapter trains as its own copy and saves with it (HF PEFT's
    /// <c>modules_to_save</c>); a classifier's head is always kept that way. Null for none.
    /// </summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary>The scale applied to B·A·x.</summary>
    public float Scaling => UseRsLora ? LoraAlpha / MathF.Sqrt(R) : LoraAlpha / R;

    /// <summary>Fields present in the file that this version does not use (kept when saving).</summary>
    public IReadOnlyDictionary<string, JsonNode?> UnknownFields { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>Checks values; throws <see cref="AdapterConfigException"/> naming the field.</summary>
    public void Validate()
    {
        if (R <= 0) throw new AdapterConfigException($"LoRA config: 'r' must be a positive integer; got {R}.");
        if (!(LoraDropout >= 0 && LoraDropout < 1)) throw new AdapterConfigException($"LoRA config: 'lora_dropout' must be in [0, 1); got {LoraDropout}.");
        if (!Enum.IsDefined(Bias)) throw new AdapterConfigException($"LoRA config: 'bias' is {(int)Bias}; supported: none, all, lora_only.");
    }

    private static readonly HashSet<string> KnownFields =
    [
        "peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora", "fan_in_fan_out", "task_type", "bias",
        "inference_mode", "base_model_name_or_path", "revision", "auto_mapping", "init_lora_weights", "modules_to_save",
        "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "megatron_config", "megatron_core",
        "loftq_config", "use_dora", "layer_replication",
    ];

    /// <summary>Reads a LORA adapter_config.json object.</summary>
    public static LoraConfig FromJson(JsonElement root, Action<string>? warn = null)
    {
        int r = ConfigFields.Int(root, "r") ?? 8;
        if (!root.TryGetProperty("target_modules", out var tm) || tm.ValueKind == JsonValueKind.Null)
            throw new AdapterConfigException("LoRA config: 'target_modules' is required (a list of module names or a regular expression).");
        string biasName = root.TryGetProperty("bias", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "none";
        var bias = biasName switch
        {
            "none" => LoraBias.None,
            "all" => LoraBias.All,
            "lora_only" => LoraBias.LoraOnly,
            _ => throw new AdapterConfigException($"LoRA config: 'bias' is '{biasName}'; supported: none, all, lora_only."),
        };
        var init = LoraInit.KaimingUniform;
        if (root.TryGetProperty("init_lora_weights", out var iw))
        {
            init = iw.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.Null => LoraInit.KaimingUniform,
                JsonValueKind.False => LoraInit.Random,
                JsonValueKind.String when iw.GetString() == "gaussian" => LoraInit.Gaussian,
                _ => throw new AdapterConfigException($"LoRA config: 'init_lora_weights' is {iw.GetRawText()}; supported: true, false, \"gaussian\"."),
            };
        }
        var modulesToSave = ConfigFields.ModulesToSave(root, "LoRA");
        if (root.TryGetProperty("use_dora", out var dora) && dora.ValueKind == JsonValueKind.True)
            throw new AdapterConfigException("LoRA config: 'use_dora' is true; DoRA is not supported.");
        var unknown = new Dictionary<string, JsonNode?>();
        foreach (var p in root.EnumerateObject())
        {
            if (KnownFields.Contains(p.Name)) continue;
            unknown[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            warn?.Invoke($"adapter_config.json: unknown field '{p.Name}' ignored (written by a newer PEFT?).");
        }
        var config = new LoraConfig
        {
            R = r,
            LoraAlpha = root.TryGetProperty("lora_alpha", out var a) && a.ValueKind == JsonValueKind.Number ? (float)a.GetDouble() : 8f,
            LoraDropout = root.TryGetProperty("lora_dropout", out var d) && d.ValueKind == JsonValueKind.Number ? (float)d.GetDouble() : 0f,
            TargetModules = TargetModules.Parse(tm, "target_modules"),
            UseRsLora = root.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True,
            FanInFanOut = root.TryGetProperty("fan_in_fan_out", out var f) && f.ValueKind == JsonValueKind.True,
            TaskType = ConfigFields.TaskType(root),
            ModulesToSave = modulesToSave,
            Bias = bias,
            InitLoraWeights = init,
            UnknownFields = unknown,
        };
        config.Validate();
        return config;
    }

    /// <summary>The adapter_config.json object PEFT would write for this config.</summary>
    public JsonObject ToJson()
    {
        var obj = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["bias"] = Bias switch { LoraBias.All => "all", LoraBias.LoraOnly => "lora_only", _ => "none" },
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = true,
            ["init_lora_weights"] = InitLoraWeights switch
            {
                LoraInit.Gaussian => JsonValue.Create("gaussian"),
                LoraInit.Random => JsonValue.Create(false),
                _ => JsonValue.Create(true)
            },
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = LoraAlpha,
            ["lora_dropout"] = LoraDropout,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = ConfigFields.ModulesToSaveJson(ModulesToSave),
            ["peft_type"] = "LORA",
            ["r"] = R,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModules.Pattern is { } p
                ? JsonValue.Create(p)
                : new JsonArray(TargetModules.Names.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
            ["task_type"] = PeftTaskTypes.ToJson(TaskType),
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        foreach (var (k, v) in UnknownFields) obj[k] = v?.DeepClone();
        return obj;
    }
}
