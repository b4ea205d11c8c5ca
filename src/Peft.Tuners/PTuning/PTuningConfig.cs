using System.Text.Json;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PTuning;

/// <summary>
/// P-tuning settings with HF PEFT's field names (<c>PromptEncoderConfig</c>): the virtual tokens
/// come from a prompt encoder over trainable embeddings, an MLP (Linear-ReLU-Linear-ReLU-Linear)
/// or a bidirectional LSTM followed by Linear-ReLU-Linear.
/// </summary>
public sealed record PTuningConfig
{
    /// <summary>Number of virtual tokens.</summary>
    public int NumVirtualTokens { get; init; } = 8;

    /// <summary>MLP or LSTM.</summary>
    public string EncoderReparameterizationType { get; init; } = "MLP";

    /// <summary>Hidden size of the encoder (defaults to token_dim).</summary>
    public int? EncoderHiddenSize { get; init; }

    /// <summary>LSTM layers (the MLP ignores it, as in PEFT).</summary>
    public int EncoderNumLayers { get; init; } = 2;

    /// <summary>Given token width to check (null = infer).</summary>
    public int? TokenDim { get; init; }

    /// <summary>Task type as PEFT writes it.</summary>
    public string TaskType { get; init; } = "CAUSAL_LM";

    /// <summary>token_dim and encoder hidden size on <paramref name="model"/>.</summary>
    public (int TokenDim, int Hidden) Resolve(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"P-tuning config: 'num_virtual_tokens' must be positive; got {NumVirtualTokens}.");
        if (EncoderReparameterizationType is not ("MLP" or "LSTM"))
            throw new AdapterConfigException($"P-tuning config: 'encoder_reparameterization_type' is '{EncoderReparameterizationType}'; supported: MLP, LSTM.");
        if (TokenDim is int given && given != model.HiddenSize)
            throw new AdapterConfigException($"P-tuning config: 'token_dim' is {given} but the model has {model.HiddenSize}; leave it out to infer it or set it to {model.HiddenSize}.");
        return (model.HiddenSize, EncoderHiddenSize ?? model.HiddenSize);
    }

    /// <summary>Reads a P_TUNING adapter_config.json object.</summary>
    public static PTuningConfig FromJson(JsonElement root)
    {
        static int? Int(JsonElement r, string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
        return new PTuningConfig
        {
            NumVirtualTokens = Int(root, "num_virtual_tokens") ?? throw new AdapterConfigException("P-tuning config: 'num_virtual_tokens' is required."),
            EncoderReparameterizationType = root.TryGetProperty("encoder_reparameterization_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "MLP",
            EncoderHiddenSize = Int(root, "encoder_hidden_size"),
            EncoderNumLayers = Int(root, "encoder_num_layers") ?? 2,
            TokenDim = Int(root, "token_dim"),
            TaskType = root.TryGetProperty("task_type", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "CAUSAL_LM",
        };
    }
}
