using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Transformers.Configuration;

/// <summary>
/// A Hugging Face <c>config.json</c> read into one family-neutral description of the network
/// (sizes, norms, activations, attention variants, special tokens), with each family's
/// Hugging Face defaults for fields a file omits. The original JSON is kept so saving writes
/// it back unchanged.
/// </summary>
public sealed class ModelConfig
{
    /// <summary>Hugging Face model_type values that can be loaded.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["gpt2", "llama", "qwen2", "mistral", "t5"];

    private readonly JsonObject _json;

    private ModelConfig(JsonObject json) => _json = json;

    /// <summary>The <c>model_type</c> string.</summary>
    public required string ModelType { get; init; }

    /// <summary>The architecture family.</summary>
    public required ModelFamily Family { get; init; }

    /// <summary>Vocabulary size (rows of the token embedding).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Model width (n_embd / hidden_size / d_model).</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Number of transformer blocks (the encoder's for T5).</summary>
    public required int NumLayers { get; init; }

    /// <summary>Decoder blocks for T5 (num_decoder_layers, defaulting to num_layers); 0 for decoder-only models.</summary>
    public int NumDecoderLayers { get; init; }

    /// <summary>Query heads.</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary>Key/value heads (fewer than query heads for grouped-query attention).</summary>
    public required int NumKeyValueHeads { get; init; }

    /// <summary>Size of one head (d_kv for T5, head_dim or hidden/heads otherwise).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Feed-forward inner size (n_inner / intermediate_size / d_ff).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Largest position for learned position embeddings (GPT-2) or the nominal context length.</summary>
    public int MaxPositionEmbeddings { get; init; }

    /// <summary>
    /// The positions the model can address at all: GPT-2's learned position table; null for rotary (Llama, Qwen2,
    /// Mistral) and relative (T5) positions, which run past the trained length (with whatever quality that gives).
    /// </summary>
    public int? PositionLimit => Family == ModelFamily.Gpt2 && MaxPositionEmbeddings > 0 ? MaxPositionEmbeddings : null;

    /// <summary>Epsilon of LayerNorm / RMSNorm.</summary>
    public required float NormEpsilon { get; init; }

    /// <summary>The feed-forward activation as Hugging Face names it (gelu_new, silu, relu, gelu...).</summary>
    public required string HiddenActivation { get; init; }

    /// <summary>T5's gated feed-forward (flan-t5's "gated-gelu"): wi_0/wi_1 instead of wi.</summary>
    public bool IsGatedFeedForward { get; init; }

    /// <summary>RoPE base (rope_theta) for Llama-style models.</summary>
    public float RopeTheta { get; init; } = 10000f;

    /// <summary>Bias on q/k/v/o projections (Llama attention_bias; Qwen2 has q/k/v biases).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Bias on the MLP projections (Llama mlp_bias).</summary>
    public bool MlpBias { get; init; }

    /// <summary>Whether the output head shares the token embedding's weights.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Sliding-window attention span, when the model uses one.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>GPT-2: divide attention scores by √head_dim (scale_attn_weights).</summary>
    public bool ScaleAttentionWeights { get; init; } = true;

    /// <summary>GPT-2: additionally divide scores by (layer index + 1).</summary>
    public bool ScaleAttentionByInverseLayerIndex { get; init; }

    /// <summary>T5 relative attention buckets.</summary>
    public int RelativeAttentionNumBuckets { get; init; }

    /// <summary>T5 relative attention maximum distance.</summary>
    public int RelativeAttentionMaxDistance { get; init; }

    /// <summary>True for encoder-decoder models (T5).</summary>
    public bool IsEncoderDecoder { get; init; }

    /// <summary>Beginning-of-sequence token id, if any.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence token ids (config may give one or a list).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Padding token id, if any.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>First decoder input for seq2seq models.</summary>
    public int? DecoderStartTokenId { get; init; }

    /// <summary>Where the config came from (a path, for error messages).</summary>
    public string Source { get; private init; } = "<config>";

    /// <summary>Reads <c>config.json</c> from a model folder or a file path.</summary>
    /// <exception cref="FileNotFoundException">No config.json there.</exception>
    /// <exception cref="ModelConfigException">Unsupported model type, missing or invalid field.</exception>
    public static ModelConfig Load(string pathOrFolder)
    {
        ArgumentNullException.ThrowIfNull(pathOrFolder);
        string path = Directory.Exists(pathOrFolder) ? Path.Combine(pathOrFolder, "config.json") : pathOrFolder;
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source = "<config>")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject obj;
        try
        {
            // Duplicate keys fail here, as invalid JSON, rather than later when a field is first read.
            obj = Peft.Shared.StrictJson.Parse(json, allowTrailingCommas: true) as JsonObject
                ?? throw new ModelConfigException(source, "(root)", "is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException(source, "(root)", $"is not valid JSON: {ex.Message}");
        }
        var r = new FieldReader(obj, source);
        string modelType = r.RequiredString("model_type");
        return modelType switch
        {
            "gpt2" => ParseGpt2(obj, r),
            "llama" => ParseLlamaLike(obj, r, ModelFamily.Llama),
            "qwen2" => ParseLlamaLike(obj, r, ModelFamily.Qwen2),
            "mistral" => ParseLlamaLike(obj, r, ModelFamily.Mistral),
            "t5" => ParseT5(obj, r),
            _ => throw new ModelConfigException(source, "model_type",
                $"is '{modelType}', which is not supported; supported model types: {string.Join(", ", SupportedModelTypes)}."),
        };
    }

    /// <summary>
    /// The same network with <paramref name="layers"/> blocks (each stack of an encoder-decoder) and a vocabulary of
    /// <paramref name="vocabulary"/> tokens, every other field unchanged: a small stand-in that runs the same kernels
    /// at the same widths (see <see cref="Generation.GenerationWarmup"/>).
    /// </summary>
    internal ModelConfig Resized(int layers, int vocabulary)
    {
        var json = (JsonObject)_json.DeepClone();
        json["vocab_size"] = vocabulary;
        switch (Family)
        {
            case ModelFamily.Gpt2:
                json["n_layer"] = layers;
                break;
            case ModelFamily.T5:
                json["num_layers"] = layers;
                json["num_decoder_layers"] = layers;
                break;
            default:
                json["num_hidden_layers"] = layers;
                break;
        }
        return Parse(json.ToJsonString(), Source);
    }

    private static ModelConfig ParseGpt2(JsonObject obj, FieldReader r)
    {
        int hidden = r.RequiredInt("n_embd");
        int heads = r.RequiredInt("n_head");
        r.CheckDivisible("n_embd", hidden, "n_head", heads);
        return new ModelConfig(obj)
        {
            Source = r.Source,
            ModelType = "gpt2",
            Family = ModelFamily.Gpt2,
            VocabSize = r.RequiredInt("vocab_size"),
            HiddenSize = hidden,
            NumLayers = r.RequiredInt("n_layer"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = heads,
            HeadDim = hidden / heads,
            IntermediateSize = r.OptionalInt("n_inner") ?? 4 * hidden,
            MaxPositionEmbeddings = r.RequiredInt("n_positions"),
            NormEpsilon = r.OptionalFloat("layer_norm_epsilon") ?? 1e-5f,
            HiddenActivation = r.OptionalString("activation_function") ?? "gelu_new",
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? true,
            ScaleAttentionWeights = r.OptionalBool("scale_attn_weights") ?? true,
            ScaleAttentionByInverseLayerIndex = r.OptionalBool("scale_attn_by_inverse_layer_idx") ?? false,
            BosTokenId = r.OptionalInt("bos_token_id") ?? 50256,
            EosTokenIds = r.TokenIds("eos_token_id") ?? [50256],
            PadTokenId = r.OptionalInt("pad_token_id"),
        };
    }

    private static ModelConfig ParseLlamaLike(JsonObject obj, FieldReader r, ModelFamily family)
    {
        int hidden = r.RequiredInt("hidden_size");
        int heads = r.RequiredInt("num_attention_heads");
        int kvHeads = r.OptionalInt("num_key_value_heads") ?? heads;
        int? headDim = r.OptionalInt("head_dim");
        if (headDim is null) r.CheckDivisible("hidden_size", hidden, "num_attention_heads", heads);
        r.CheckDivisible("num_attention_heads", heads, "num_key_value_heads", kvHeads);
        bool useSliding = family != ModelFamily.Llama && (r.OptionalBool("use_sliding_window") ?? family == ModelFamily.Mistral);
        return new ModelConfig(obj)
        {
            Source = r.Source,
            ModelType = r.RequiredString("model_type"),
            Family = family,
            VocabSize = r.RequiredInt("vocab_size"),
            HiddenSize = hidden,
            NumLayers = r.RequiredInt("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim ?? hidden / heads,
            IntermediateSize = r.RequiredInt("intermediate_size"),
            MaxPositionEmbeddings = r.OptionalInt("max_position_embeddings") ?? 2048,
            NormEpsilon = r.OptionalFloat("rms_norm_eps") ?? 1e-6f,
            HiddenActivation = r.OptionalString("hidden_act") ?? "silu",
            RopeTheta = r.OptionalFloat("rope_theta") ?? 10000f,
            AttentionBias = family == ModelFamily.Qwen2 || (r.OptionalBool("attention_bias") ?? false),
            MlpBias = r.OptionalBool("mlp_bias") ?? false,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
            SlidingWindow = useSliding ? r.OptionalInt("sliding_window") : null,
            BosTokenId = r.OptionalInt("bos_token_id"),
            EosTokenIds = r.TokenIds("eos_token_id") ?? [],
            PadTokenId = r.OptionalInt("pad_token_id"),
        };
    }

    private static ModelConfig ParseT5(JsonObject obj, FieldReader r)
    {
        string ffProj = r.OptionalString("feed_forward_proj") ?? "relu";
        bool gated = ffProj.StartsWith("gated-", StringComparison.Ordinal);
        string act = gated ? ffProj["gated-".Length..] : ffProj;
        if (act is not ("relu" or "gelu" or "gelu_new" or "silu"))
            throw new ModelConfigException(r.Source, "feed_forward_proj", $"is '{ffProj}'; supported: relu, gelu, gelu_new, silu, each optionally 'gated-'.");
        // Hugging Face maps T5's "gated-gelu" to the tanh approximation (gelu_new).
        if (gated && act == "gelu") act = "gelu_new";
        int layers = r.RequiredInt("num_layers");
        var (buckets, maxDistance) = RelativeAttention(r);
        return new ModelConfig(obj)
        {
            Source = r.Source,
            ModelType = "t5",
            Family = ModelFamily.T5,
            VocabSize = r.RequiredInt("vocab_size"),
            HiddenSize = r.RequiredInt("d_model"),
            NumLayers = layers,
            NumDecoderLayers = r.OptionalInt("num_decoder_layers") ?? layers,
            NumAttentionHeads = r.RequiredInt("num_heads"),
            NumKeyValueHeads = r.RequiredInt("num_heads"),
            HeadDim = r.RequiredInt("d_kv"),
            IntermediateSize = r.RequiredInt("d_ff"),
            NormEpsilon = r.OptionalFloat("layer_norm_epsilon") ?? 1e-6f,
            HiddenActivation = act,
            IsGatedFeedForward = gated,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? true,
            RelativeAttentionNumBuckets = buckets,
            RelativeAttentionMaxDistance = maxDistance,
            IsEncoderDecoder = true,
            EosTokenIds = r.TokenIds("eos_token_id") ?? [1],
            PadTokenId = r.OptionalInt("pad_token_id") ?? 0,
            DecoderStartTokenId = r.OptionalInt("decoder_start_token_id") ?? 0,
        };
    }

    /// <summary>
    /// T5's relative position buckets and max distance. A distance past the exact range (half the
    /// buckets; the encoder's is half of its half) is bucketed by log(distance / exact) /
    /// log(max_distance / exact), which needs an exact range of at least 1 and a max distance
    /// beyond it: otherwise the bucket is NaN or infinite cast to an int, an index far outside the
    /// table (Hugging Face's model fails the same way), found only at the first forward pass.
    /// </summary>
    private static (int Buckets, int MaxDistance) RelativeAttention(FieldReader r)
    {
        int buckets = r.OptionalInt("relative_attention_num_buckets") ?? 32;
        int maxDistance = r.OptionalInt("relative_attention_max_distance") ?? 128;
        if (buckets < 4)
            throw new ModelConfigException(r.Source, "relative_attention_num_buckets",
                $"is {buckets}; T5's relative attention needs at least 4 buckets (an exact and a logarithmic range in each direction).");
        if (maxDistance <= buckets / 2)
            throw new ModelConfigException(r.Source, "relative_attention_max_distance",
                $"is {maxDistance}; it must exceed the exact range relative_attention_num_buckets / 2 = {buckets / 2}, where logarithmic buckets start.");
        return (buckets, maxDistance);
    }

    /// <summary>The config as JSON text, exactly the fields it was read with.</summary>
    public string ToJson() => _json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Reads an extra field the typed properties do not cover (null when absent).</summary>
    public JsonNode? GetRawField(string name) => _json[name]?.DeepClone();

    private sealed class FieldReader(JsonObject obj, string source)
    {
        public string Source => source;

        private ModelConfigException Error(string field, string problem) => new(source, field, problem);

        public string RequiredString(string field) =>
            OptionalString(field) ?? throw Error(field, "is missing; it is required for this model type.");

        public string? OptionalString(string field)
        {
            var n = obj[field];
            if (n is null) return null;
            return n is JsonValue v && v.TryGetValue(out string? s) ? s : throw Error(field, $"must be a string; got {n.ToJsonString()}.");
        }

        public int RequiredInt(string field) =>
            OptionalInt(field) ?? throw Error(field, "is missing; it is required for this model type.");

        public int? OptionalInt(string field)
        {
            var n = obj[field];
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i))
            {
                if (i < 0 && !field.EndsWith("_token_id", StringComparison.Ordinal))
                    throw Error(field, $"must be non-negative; got {i}.");
                return i;
            }
            throw Error(field, $"must be an integer; got {n.ToJsonString()}.");
        }

        public float? OptionalFloat(string field)
        {
            var n = obj[field];
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number)
                return (float)e.GetDouble();
            throw Error(field, $"must be a number; got {n.ToJsonString()}.");
        }

        public bool? OptionalBool(string field)
        {
            var n = obj[field];
            if (n is null) return null;
            return n is JsonValue v && v.TryGetValue(out bool b) ? b : throw Error(field, $"must be true or false; got {n.ToJsonString()}.");
        }

        public IReadOnlyList<int>? TokenIds(string field)
        {
            var n = obj[field];
            if (n is null) return null;
            if (n is JsonArray arr)
            {
                var ids = new int[arr.Count];
                for (int i = 0; i < arr.Count; i++)
                    ids[i] = arr[i] is JsonValue v && v.TryGetValue(out int id)
                        ? id
                        : throw Error(field, $"must be an integer or a list of integers; got {n.ToJsonString()}.");
                return ids;
            }
            return [OptionalInt(field)!.Value];
        }

        public void CheckDivisible(string field, int value, string byField, int by)
        {
            if (by <= 0) throw Error(byField, $"must be positive; got {by}.");
            if (value % by != 0)
                throw Error(field, $"is {value}, which is not divisible by {byField} = {by}.");
        }
    }
}
