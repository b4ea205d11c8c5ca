using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PTuning;

/// <summary>
/// P-tuning settings with HF PEFT's field names (<c>PromptEncoderConfig</c>): the virtual tokens
/// come from a prompt encoder over trainable embeddings, an MLP (Linear-ReLU-Linear-ReLU-Linear)
/// or a bidirectional LSTM followed by Linear-ReLU-Linear.
/// </summary>
public sealed record PTuningConfig : IPeftConfig
{
    /// <inheritdoc/>
    public string PeftType => "P_TUNING";

    /// <summary>Number of virtual tokens.</summary>
    public int NumVirtualTokens { get; init; } = 8;

    /// <summary>The prompt encoder's network: MLP or LSTM.</summary>
    public PromptEncoderReparameterizationType EncoderReparameterizationType { get; init; } = PromptEncoderReparameterizationType.Mlp;

    /// <summary>Hidden size of the encoder (defaults to token_dim).</summary>
    public int? EncoderHiddenSize { get; init; }

    /// <summary>LSTM layers (the MLP ignores it, as in PEFT).</summary>
    public int EncoderNumLayers { get; init; } = 2;

    /// <summary>Given token width to check (null = infer).</summary>
    public int? TokenDim { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>token_dim and encoder hidden size on <paramref name="model"/>.</summary>
    public (int TokenDim, int Hidden) Resolve(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"P-tuning config: 'num_virtual_tokens' must be positive; got {NumVirtualTokens}.");
        HfEnumNames.RequireDefined(EncoderReparameterizationType, "encoder_reparameterization_type", "P-tuning");
        if (TokenDim is int given && given != model.HiddenSize)
            throw new AdapterConfigException($"P-tuning config: 'token_dim' is {given} but the model has {model.HiddenSize}; " +
                $"leave it out to infer it or set it to {model.HiddenSize}.");
        return (model.HiddenSize, EncoderHiddenSize ?? model.HiddenSize);
    }

    private static readonly HashSet<string> KnownFields =
    [
        "num_virtual_tokens", "encoder_reparameterization_type", "encoder_hidden_size", "encoder_num_layers", "encoder_dropout",
        "token_dim", "num_layers", "num_attention_heads", "num_transformer_submodules",
    ];

    /// <summary>Reads a P_TUNING adapter_config.json object.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="warn">Receives a message per unknown field (a newer PEFT's), which is otherwise ignored.</param>
    public static PTuningConfig FromJson(JsonElement root, Action<string>? warn = null)
    {
        ConfigFields.WarnUnknown(root, KnownFields, warn);
        return new PTuningConfig
        {
            NumVirtualTokens = ConfigFields.Int(root, "num_virtual_tokens")
                ?? throw new AdapterConfigException("P-tuning config: 'num_virtual_tokens' is required."),
            EncoderReparameterizationType = HfEnumNames.Read(root, "encoder_reparameterization_type", PromptEncoderReparameterizationType.Mlp, "P-tuning"),
            EncoderHiddenSize = ConfigFields.Int(root, "encoder_hidden_size"),
            EncoderNumLayers = ConfigFields.Int(root, "encoder_num_layers") ?? 2,
            TokenDim = ConfigFields.Int(root, "token_dim"),
            TaskType = ConfigFields.TaskType(root),
        };
    }

    /// <summary>The adapter_config.json object PEFT writes (PromptEncoderConfig), with the resolved sizes.</summary>
    public JsonObject ToJson(ModelConfig model)
    {
        var (dim, hidden) = Resolve(model);
        return new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["encoder_dropout"] = 0.0,
            ["encoder_hidden_size"] = hidden,
            ["encoder_num_layers"] = EncoderNumLayers,
            ["encoder_reparameterization_type"] = HfEnumNames.ToHf(EncoderReparameterizationType),
            ["inference_mode"] = true,
            ["num_attention_heads"] = model.NumAttentionHeads,
            ["num_layers"] = model.NumLayers,
            ["num_transformer_submodules"] = model.IsEncoderDecoder ? 2 : 1,
            ["num_virtual_tokens"] = NumVirtualTokens,
            ["peft_type"] = "P_TUNING",
            ["revision"] = null,
            ["task_type"] = PeftTaskTypes.ToJson(TaskType),
            ["token_dim"] = dim,
        };
    }
}
