using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PrefixTuning;

/// <summary>
/// Prefix tuning settings with HF PEFT's field names (<c>PrefixTuningConfig</c>). Sizes are
/// inferred from the model: <c>token_dim</c> = kv heads · head size (PEFT rewrites it for
/// grouped-query models), <c>num_attention_heads</c> = kv heads, <c>num_layers</c> = decoder layers,
/// <c>num_transformer_submodules</c> = 1 (decoder-only) or 2 (encoder-decoder). A contradicting
/// value fails naming the field and the right value.
/// </summary>
public sealed record PrefixTuningConfig : IPeftConfig
{
    /// <inheritdoc/>
    public string PeftType => "PREFIX_TUNING";

    /// <summary>Virtual positions in front of every layer's keys and values.</summary>
    public int NumVirtualTokens { get; init; } = 8;

    /// <summary>Reparameterize with Linear-Tanh-Linear (the transform's output is what PEFT saves).</summary>
    public bool PrefixProjection { get; init; }

    /// <summary>Hidden size of the projection (defaults to token_dim).</summary>
    public int? EncoderHiddenSize { get; init; }

    /// <summary>
    /// How a fresh prefix starts (not part of PEFT's file, which holds the values): RANDOM (N(0, 1),
    /// PEFT's nn.Embedding default), ZERO, or TEXT (the key/values the frozen model computes for
    /// <see cref="InitText"/>'s first tokens; without projection only).
    /// </summary>
    public PrefixInitialization Initialization { get; init; } = PrefixInitialization.Random;

    /// <summary>The text for TEXT initialization; it must have at least num_virtual_tokens tokens.</summary>
    public string? InitText { get; init; }

    /// <summary>
    /// For encoder-decoder models: DECODER (HF PEFT's mode, what HF adapters expect: a prefix in
    /// front of the decoder's self-attention only) or ALL (the prefix-tuning paper's: separate
    /// prefixes for the encoder's self-attention, the decoder's self-attention and its
    /// cross-attention; written to adapter_config.json as <c>peft_mlnet_seq2seq_prefix</c>, which HF
    /// PEFT does not read).
    /// </summary>
    public Seq2SeqPrefixMode Seq2SeqPrefix { get; init; } = Seq2SeqPrefixMode.Decoder;

    /// <summary>Given values to check (null = infer).</summary>
    public int? TokenDim { get; init; }

    /// <summary>Given value to check (null = infer).</summary>
    public int? NumLayers { get; init; }

    /// <summary>Given value to check (null = infer).</summary>
    public int? NumAttentionHeads { get; init; }

    /// <summary>Given value to check (null = infer).</summary>
    public int? NumTransformerSubmodules { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>The sizes on <paramref name="model"/>: per-token width, layers, kv heads, head size, submodules, projection width.</summary>
    public (int TokenDim, int Layers, int Heads, int HeadDim, int Submodules, int EncoderHidden) Resolve(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"Prefix tuning config: 'num_virtual_tokens' must be positive; got {NumVirtualTokens}.");
        int heads = model.NumKeyValueHeads, tokenDim = heads * model.HeadDim;
        int layers = model.IsEncoderDecoder ? model.NumDecoderLayers : model.NumLayers;
        int submodules = model.IsEncoderDecoder ? 2 : 1;
        Check("token_dim", TokenDim, tokenDim);
        Check("num_layers", NumLayers, layers);
        Check("num_attention_heads", NumAttentionHeads, heads);
        Check("num_transformer_submodules", NumTransformerSubmodules, submodules);
        if (!Enum.IsDefined(Seq2SeqPrefix))
            throw new AdapterConfigException($"Prefix tuning config: 'peft_mlnet_seq2seq_prefix' is '{Seq2SeqPrefix}'; " +
                "supported: DECODER (HF PEFT's), ALL (the paper's).");
        if (Seq2SeqPrefix == Seq2SeqPrefixMode.All && !model.IsEncoderDecoder)
            throw new AdapterConfigException($"Prefix tuning config: 'peft_mlnet_seq2seq_prefix' ALL is for encoder-decoder models; " +
                $"{model.ModelType} is decoder-only, use DECODER.");
        return (tokenDim, layers, heads, model.HeadDim, submodules, EncoderHiddenSize ?? tokenDim);
    }

    private static void Check(string field, int? given, int actual)
    {
        if (given is int g && g != actual)
            throw new AdapterConfigException($"Prefix tuning config: '{field}' is {g} but the model needs {actual}; " +
                $"leave it out to infer it or set it to {actual}.");
    }

    private static readonly HashSet<string> KnownFields =
    [
        "num_virtual_tokens", "prefix_projection", "encoder_hidden_size", "token_dim", "num_layers", "num_attention_heads", "num_transformer_submodules",
        "peft_mlnet_seq2seq_prefix",
    ];

    /// <summary>
    /// Which chunks of the table ([virtual, chunks·tokenDim]) hold each layer's keys and values, per
    /// attention the prefix feeds: decoder (or decoder-only) self-attention, and in ALL mode the
    /// encoder's self-attention and the cross-attention. HF's encoder-decoder layout reads layer i
    /// from chunks (4i) mod 2L and (4i+1) mod 2L.
    /// </summary>
    internal (int Chunks, (int Key, int Value)[] Self, (int Key, int Value)[]? Encoder, (int Key, int Value)[]? Cross) ChunkPlan(ModelConfig model)
    {
        var (_, layers, _, _, submodules, _) = Resolve(model);
        if (Seq2SeqPrefix == Seq2SeqPrefixMode.All)
        {
            int encoder = model.NumLayers;
            var enc = Enumerable.Range(0, encoder).Select(i => (2 * i, 2 * i + 1)).ToArray();
            var self = Enumerable.Range(0, layers).Select(i => (2 * encoder + 2 * i, 2 * encoder + 2 * i + 1)).ToArray();
            var cross = Enumerable.Range(0, layers).Select(i => (2 * encoder + 2 * layers + 2 * i, 2 * encoder + 2 * layers + 2 * i + 1)).ToArray();
            return (2 * encoder + 4 * layers, self, enc, cross);
        }
        var plan = Enumerable.Range(0, layers)
            .Select(i => submodules == 2 ? ((4 * i) % (2 * layers), (4 * i + 1) % (2 * layers)) : (2 * i, 2 * i + 1)).ToArray();
        return (2 * layers, plan, null, null);
    }

    /// <summary>Reads a PREFIX_TUNING adapter_config.json object.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="warn">Receives a message per unknown field (a newer PEFT's), which is otherwise ignored.</param>
    public static PrefixTuningConfig FromJson(JsonElement root, Action<string>? warn = null)
    {
        ConfigFields.WarnUnknown(root, KnownFields, warn);
        return new PrefixTuningConfig
        {
            NumVirtualTokens = ConfigFields.Int(root, "num_virtual_tokens")
                ?? throw new AdapterConfigException("Prefix tuning config: 'num_virtual_tokens' is required."),
            PrefixProjection = root.TryGetProperty("prefix_projection", out var p) && p.ValueKind == JsonValueKind.True,
            EncoderHiddenSize = ConfigFields.Int(root, "encoder_hidden_size"),
            TokenDim = ConfigFields.Int(root, "token_dim"),
            NumLayers = ConfigFields.Int(root, "num_layers"),
            NumAttentionHeads = ConfigFields.Int(root, "num_attention_heads"),
            NumTransformerSubmodules = ConfigFields.Int(root, "num_transformer_submodules"),
            Seq2SeqPrefix = HfEnumNames.Read(root, "peft_mlnet_seq2seq_prefix", Seq2SeqPrefixMode.Decoder, "Prefix tuning"),
            TaskType = ConfigFields.TaskType(root),
        };
    }

    /// <summary>The adapter_config.json object PEFT writes, with the resolved sizes.</summary>
    public JsonObject ToJson(ModelConfig model)
    {
        var r = Resolve(model);
        var json = new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["encoder_hidden_size"] = r.EncoderHidden,
            ["inference_mode"] = true,
            ["num_attention_heads"] = r.Heads,
            ["num_layers"] = r.Layers,
            ["num_transformer_submodules"] = r.Submodules,
            ["num_virtual_tokens"] = NumVirtualTokens,
            ["peft_type"] = "PREFIX_TUNING",
            ["prefix_projection"] = PrefixProjection,
            ["revision"] = null,
            ["task_type"] = PeftTaskTypes.ToJson(TaskType),
            ["token_dim"] = r.TokenDim,
        };
        if (Seq2SeqPrefix != Seq2SeqPrefixMode.Decoder) json["peft_mlnet_seq2seq_prefix"] = HfEnumNames.ToHf(Seq2SeqPrefix);
        return json;
    }
}
