using System.Text.Json.Nodes;
using CsCheck;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random tiny base model: family (gpt2, llama, mistral with a sliding window, t5), sizes and
/// random weights. Small enough that a property builds and runs hundreds of them in seconds.
/// </summary>
/// <param name="Family">"gpt2", "llama", "mistral" or "t5".</param>
/// <param name="Layers">Blocks (T5: encoder blocks).</param>
/// <param name="DecoderLayers">T5's decoder blocks (others ignore it).</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="KeyValueHeads">Llama/Mistral key/value heads (a divisor of <paramref name="Heads"/>: grouped-query attention).</param>
/// <param name="HeadDim">Size of one head (even: rotary embeddings pair dimensions).</param>
/// <param name="FeedForward">Feed-forward inner size.</param>
/// <param name="Vocab">Vocabulary size; id 0 is the pad id.</param>
/// <param name="TieEmbeddings">The LM head shares the token embeddings.</param>
/// <param name="Window">Mistral's sliding window; how far T5's relative-attention max distance is past its exact range.</param>
/// <param name="Variant">GPT-2: attention scaled by the inverse layer index; T5: gated-gelu feed-forward.</param>
/// <param name="Seed">Weight seed.</param>
internal sealed record TinyModelSpec(string Family, int Layers, int DecoderLayers, int Heads, int KeyValueHeads, int HeadDim, int FeedForward, int Vocab,
    bool TieEmbeddings, int Window, bool Variant, ulong Seed)
{
    public static Gen<TinyModelSpec> Generate { get; } =
        from family in Gen.OneOf<string>("gpt2", "llama", "mistral", "t5")
        from layers in Gen.Int[1, 3]
        from decoderLayers in Gen.Int[1, 3]
        from heads in Gen.Int[1, 4]
        from keyValueHeads in Gen.OneOf<int>([.. Enumerable.Range(1, heads).Where(d => heads % d == 0)])
        from headDim in Gen.Int[1, 4].Select(h => 2 * h)
        from feedForward in Gen.Int[2, 24]
        from vocab in Gen.Int[8, 48]
        from tie in Gen.Bool
        from window in Gen.Int[1, 8]
        from variant in Gen.Bool
        from seed in Gen.ULong
        select new TinyModelSpec(family, layers, decoderLayers, heads, keyValueHeads, headDim, feedForward, vocab, tie, window, variant, seed);

    /// <summary>T5's relative position buckets, 4 to 7 (the max distance must pass half of them: see ModelConfig).</summary>
    private int Buckets => 4 + Window % 4;

    public ModelFamily Kind() => Family switch
    {
        "gpt2" => ModelFamily.Gpt2,
        "llama" => ModelFamily.Llama,
        "mistral" => ModelFamily.Mistral,
        "t5" => ModelFamily.T5,
        _ => throw new InvalidOperationException($"Unknown family {Family}."),
    };

    /// <summary>The names of the linear layers in a block (what LoRA and IA3 target).</summary>
    public string[] LinearModuleNames() => Kind() switch
    {
        // GPT-2 names both projections c_proj: the parent tells them apart.
        ModelFamily.Gpt2 => ["c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"],
        ModelFamily.Llama or ModelFamily.Mistral => ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        _ => Variant ? ["q", "k", "v", "o", "wi_0", "wi_1", "wo"] : ["q", "k", "v", "o", "wi", "wo"],
    };

    public ModelConfig Config()
    {
        int hidden = Heads * HeadDim;
        var json = Family switch
        {
            "gpt2" => new JsonObject
            {
                ["model_type"] = "gpt2", ["vocab_size"] = Vocab, ["n_embd"] = hidden, ["n_layer"] = Layers, ["n_head"] = Heads, ["n_inner"] = FeedForward,
                ["n_positions"] = 64, ["scale_attn_by_inverse_layer_idx"] = Variant, ["tie_word_embeddings"] = TieEmbeddings,
                ["eos_token_id"] = 0, ["bos_token_id"] = 0, ["pad_token_id"] = 0,
            },
            "llama" or "mistral" => new JsonObject
            {
                ["model_type"] = Family, ["vocab_size"] = Vocab, ["hidden_size"] = hidden, ["head_dim"] = HeadDim, ["num_hidden_layers"] = Layers,
                ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KeyValueHeads, ["intermediate_size"] = FeedForward,
                ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-6, ["tie_word_embeddings"] = TieEmbeddings,
                ["sliding_window"] = Family == "mistral" ? Window : null, ["eos_token_id"] = 0, ["bos_token_id"] = 0, ["pad_token_id"] = 0,
            },
            _ => new JsonObject
            {
                ["model_type"] = "t5", ["vocab_size"] = Vocab, ["d_model"] = hidden, ["d_kv"] = HeadDim, ["num_heads"] = Heads, ["d_ff"] = FeedForward,
                ["num_layers"] = Layers, ["num_decoder_layers"] = DecoderLayers, ["relative_attention_num_buckets"] = Buckets,
                ["relative_attention_max_distance"] = Buckets / 2 + Window, ["feed_forward_proj"] = Variant ? "gated-gelu" : "relu",
                ["tie_word_embeddings"] = TieEmbeddings, ["eos_token_id"] = 1, ["pad_token_id"] = 0, ["decoder_start_token_id"] = 0,
            },
        };
        return ModelConfig.Parse(json.ToJsonString(), $"random {this}");
    }

    /// <summary>A fresh model with random weights (std 0.3: logits far enough apart that greedy choices are not near-ties of rounding).</summary>
    public ILanguageModel Build()
    {
        var config = Config();
        ILanguageModel model = config.IsEncoderDecoder ? new T5Model(config) : ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, Seed, std: 0.3f);
        return model;
    }
}
