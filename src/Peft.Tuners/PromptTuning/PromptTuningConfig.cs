using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PromptTuning;

/// <summary>
/// Prompt tuning settings with HF PEFT's field names (<c>PromptTuningConfig</c>). The sizes PEFT
/// asks users to copy by hand (<c>token_dim</c>, <c>num_layers</c>, <c>num_attention_heads</c>,
/// <c>num_transformer_submodules</c>) are inferred from the model; a value that contradicts the
/// model fails naming the field, the value given and the right one.
/// </summary>
public sealed record PromptTuningConfig : IPeftConfig
{
    /// <inheritdoc/>
    public string PeftType => "PROMPT_TUNING";

    /// <summary>Number of virtual tokens prepended to the input.</summary>
    public int NumVirtualTokens { get; init; } = 8;

    /// <summary>RANDOM (N(0, 1) like nn.Embedding), SAMPLE_VOCAB (rows of the token embedding) or TEXT.</summary>
    public PromptTuningInit PromptTuningInit { get; init; } = PromptTuningInit.Random;

    /// <summary>The text whose token embeddings initialize the virtual tokens when <see cref="PromptTuningInit"/> is TEXT.</summary>
    public string? PromptTuningInitText { get; init; }

    /// <summary>Given sizes to check against the model (null = infer).</summary>
    public int? TokenDim { get; init; }

    /// <summary>Given layer count to check (null = infer).</summary>
    public int? NumLayers { get; init; }

    /// <summary>Given head count to check (null = infer).</summary>
    public int? NumAttentionHeads { get; init; }

    /// <summary>1 for decoder-only models, 2 for encoder-decoder ones (PEFT's default); null = infer.</summary>
    public int? NumTransformerSubmodules { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>The sizes this config has on <paramref name="model"/>, checking any given value.</summary>
    public (int TokenDim, int Layers, int Heads, int Submodules) Resolve(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"Prompt tuning config: 'num_virtual_tokens' must be positive; got {NumVirtualTokens}.");
        int submodules = model.IsEncoderDecoder ? 2 : 1;
        Check("token_dim", TokenDim, model.HiddenSize);
        Check("num_layers", NumLayers, model.NumLayers);
        Check("num_attention_heads", NumAttentionHeads, model.NumAttentionHeads);
        if (NumTransformerSubmodules is int given && given != submodules && !(model.IsEncoderDecoder && given == 1))
            throw new AdapterConfigException($"Prompt tuning config: 'num_transformer_submodules' is {given} " +
                $"but the model ({model.ModelType}) needs {submodules}.");
        return (model.HiddenSize, model.NumLayers, model.NumAttentionHeads, NumTransformerSubmodules ?? submodules);
    }

    private static void Check(string field, int? given, int actual)
    {
        if (given is int g && g != actual)
            throw new AdapterConfigException($"Prompt tuning config: '{field}' is {g} but the model has {actual}; " +
                $"leave it out to infer it or set it to {actual}.");
    }

    private static readonly HashSet<string> KnownFields =
    [
        "num_virtual_tokens", "prompt_tuning_init", "prompt_tuning_init_text", "token_dim", "num_layers", "num_attention_heads",
        "num_transformer_submodules", "tokenizer_name_or_path", "tokenizer_kwargs",
    ];

    /// <summary>Reads a PROMPT_TUNING adapter_config.json object.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="warn">Receives a message per unknown field (a newer PEFT's), which is otherwise ignored.</param>
    public static PromptTuningConfig FromJson(JsonElement root, Action<string>? warn = null)
    {
        ConfigFields.WarnUnknown(root, KnownFields, warn);
        return new PromptTuningConfig
        {
            NumVirtualTokens = ConfigFields.Int(root, "num_virtual_tokens")
                ?? throw new AdapterConfigException("Prompt tuning config: 'num_virtual_tokens' is required."),
            PromptTuningInit = HfEnumNames.Read(root, "prompt_tuning_init", PromptTuningInit.Random, "Prompt tuning"),
            PromptTuningInitText = ConfigFields.String(root, "prompt_tuning_init_text"),
            TokenDim = ConfigFields.Int(root, "token_dim"),
            NumLayers = ConfigFields.Int(root, "num_layers"),
            NumAttentionHeads = ConfigFields.Int(root, "num_attention_heads"),
            NumTransformerSubmodules = ConfigFields.Int(root, "num_transformer_submodules"),
            TaskType = ConfigFields.TaskType(root),
        };
    }

    /// <summary>The adapter_config.json object PEFT writes, with the resolved sizes.</summary>
    public JsonObject ToJson(ModelConfig model)
    {
        var (dim, layers, heads, submodules) = Resolve(model);
        return new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["inference_mode"] = true,
            ["num_attention_heads"] = heads,
            ["num_layers"] = layers,
            ["num_transformer_submodules"] = submodules,
            ["num_virtual_tokens"] = NumVirtualTokens,
            ["peft_type"] = "PROMPT_TUNING",
            ["prompt_tuning_init"] = HfEnumNames.ToHf(PromptTuningInit),
            ["prompt_tuning_init_text"] = PromptTuningInitText,
            ["revision"] = null,
            ["task_type"] = PeftTaskTypes.ToJson(TaskType),
            ["token_dim"] = dim,
            ["tokenizer_kwargs"] = null,
            ["tokenizer_name_or_path"] = null,
        };
    }
}
