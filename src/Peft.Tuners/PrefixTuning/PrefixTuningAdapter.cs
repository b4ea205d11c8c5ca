using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PrefixTuning;

/// <summary>
/// Prefix tuning: per-layer key/value rows in front of every self-attention's keys. The table
/// [virtual, layers·2·kvHeads·headDim] holds, for virtual token t, the key (chunk 2i) and value
/// (chunk 2i+1) of layer i, each read as [kvHeads, headDim] — PEFT's layout, so adapters move
/// both ways. With <c>prefix_projection</c> the table is the output of Linear-Tanh-Linear over a
/// smaller embedding; PEFT saves only that output, so a loaded projection adapter is fixed.
/// For encoder-decoder models (HF's mode) the prefix goes in front of the decoder's
/// self-attention; layer i uses chunks (4i) mod 2L and (4i+1) mod 2L as PEFT does.
/// </summary>
public sealed class PrefixTuningAdapter : IPrefixAdapter
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<PrefixTuningConfig>("PREFIX_TUNING",
        (config, model, seed, tokenize) => Create(config, model, seed, tokenize),
        (folder, model, warn) => Load(folder, model.Config, warn));

    private readonly (int TokenDim, int Layers, int Heads, int HeadDim, int Submodules, int EncoderHidden) _sizes;
    // Which table chunks are each layer's keys and values (self, encoder and cross attention): fixed by config and model.
    private readonly (int Chunks, (int Key, int Value)[] Self, (int Key, int Value)[]? Encoder, (int Key, int Value)[]? Cross) _plan;

    private PrefixTuningAdapter(PrefixTuningConfig config, ModelConfig model, Tensor embedding, Tensor[]? transform)
    {
        Config = config;
        Model = model;
        Embedding = embedding;
        Transform = transform;
        _sizes = config.Resolve(model);
        _plan = config.ChunkPlan(model);
    }

    /// <summary>The settings.</summary>
    public PrefixTuningConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <inheritdoc/>
    public int NumVirtualTokens => Config.NumVirtualTokens;

    /// <summary>The base model's config.</summary>
    public ModelConfig Model { get; }

    /// <summary>The embedding: [virtual, layers·2·tokenDim], or [virtual, tokenDim] before a projection.</summary>
    public Tensor Embedding { get; }

    /// <summary>The projection (weight0, bias0, weight2, bias2 in nn.Linear layout), or null.</summary>
    public IReadOnlyList<Tensor>? Transform { get; }

    /// <inheritdoc/>
    public IEnumerable<Tensor> Parameters => Transform is null ? [Embedding] : [Embedding, .. Transform];

    /// <summary>
    /// Creates a fresh adapter: embedding N(0, 1) like nn.Embedding (or zeros, per
    /// <see cref="PrefixTuningConfig.Initialization"/>), projection as nn.Linear. TEXT initialization
    /// needs the model itself: use <see cref="Create(PrefixTuningConfig, ILanguageModel, ulong, Func{string, IReadOnlyList{int}})"/>.
    /// </summary>
    public static PrefixTuningAdapter Create(PrefixTuningConfig config, ModelConfig model, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        var s = config.Resolve(model);
        HfEnumNames.RequireDefined(config.Initialization, "initialization", "Prefix tuning");
        if (config.Initialization == PrefixInitialization.Text)
            throw new AdapterConfigException("Prefix tuning: TEXT initialization runs the base model on the text; " +
                "call the overload that takes the model and a tokenizer.");
        var random = new SeededRandom(seed);
        int width = config.ChunkPlan(model).Chunks * s.TokenDim;
        if (!config.PrefixProjection)
        {
            var table = config.Initialization == PrefixInitialization.Zero
                ? Tensor.Parameter(new float[config.NumVirtualTokens * width], new Shape(config.NumVirtualTokens, width), "prompt_embeddings")
                : TensorInit.Normal(new Shape(config.NumVirtualTokens, width), 0, 1, random, "prompt_embeddings");
            return new PrefixTuningAdapter(config, model, table, null);
        }
        var embedding = config.Initialization == PrefixInitialization.Zero
            ? Tensor.Parameter(new float[config.NumVirtualTokens * s.TokenDim], new Shape(config.NumVirtualTokens, s.TokenDim),
                "prompt_encoder.embedding.weight")
            : TensorInit.Normal(new Shape(config.NumVirtualTokens, s.TokenDim), 0, 1, random, "prompt_encoder.embedding.weight");
        Tensor[] transform =
        [
            TensorInit.KaimingUniform(new Shape(s.EncoderHidden, s.TokenDim), random, name: "prompt_encoder.transform.0.weight"),
            TensorInit.Uniform(new Shape(s.EncoderHidden), -1f / MathF.Sqrt(s.TokenDim), 1f / MathF.Sqrt(s.TokenDim), random,
                "prompt_encoder.transform.0.bias"),
            TensorInit.KaimingUniform(new Shape(width, s.EncoderHidden), random, name: "prompt_encoder.transform.2.weight"),
            TensorInit.Uniform(new Shape(width), -1f / MathF.Sqrt(s.EncoderHidden), 1f / MathF.Sqrt(s.EncoderHidden), random,
                "prompt_encoder.transform.2.bias"),
        ];
        return new PrefixTuningAdapter(config, model, embedding, transform);
    }

    /// <summary>
    /// Creates a fresh adapter on <paramref name="model"/>; with TEXT initialization the prefix
    /// starts as the key/values the frozen model computes for the first num_virtual_tokens tokens of
    /// <see cref="PrefixTuningConfig.InitText"/> (HF PEFT's <c>initialize_kv_prefix_from_text</c>), so
    /// training starts from keys and values of the model's own scale rather than N(0, 1) noise.
    /// </summary>
    /// <param name="config">The settings.</param>
    /// <param name="model">The base model.</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer (TEXT only).</param>
    public static PrefixTuningAdapter Create(PrefixTuningConfig config, ILanguageModel model, ulong seed = 0, Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        if (config.Initialization != PrefixInitialization.Text) return Create(config, model.Config, seed);
        if (config.PrefixProjection)
            throw new AdapterConfigException("Prefix tuning: TEXT initialization sets the key/values directly, so 'prefix_projection' must be false.");
        if (config.Seq2SeqPrefix == Seq2SeqPrefixMode.All)
            throw new AdapterConfigException("Prefix tuning: TEXT initialization fills the decoder's self-attention key/values; " +
                "with 'peft_mlnet_seq2seq_prefix' ALL use RANDOM or ZERO.");
        if (string.IsNullOrEmpty(config.InitText)) throw new AdapterConfigException("Prefix tuning: initialization is TEXT but InitText is empty.");
        if (tokenize is null)
            throw new AdapterConfigException("Prefix tuning: initialization is TEXT; pass the model's tokenizer so InitText can be turned into token ids.");
        var ids = tokenize(config.InitText);
        int v = config.NumVirtualTokens;
        if (ids.Count < v)
            throw new AdapterConfigException($"Prefix tuning: InitText has {ids.Count} tokens but num_virtual_tokens is {v}; " +
                "give a longer text or fewer virtual tokens.");
        var adapter = Create(config with { Initialization = PrefixInitialization.Zero }, model.Config, seed);
        adapter.SetFromKeyValues(KeyValuesOf(model, ids.Take(v).ToArray()));
        return new PrefixTuningAdapter(config, model.Config, adapter.Embedding, null);
    }

    /// <summary>The frozen model's per-layer self-attention key/values [1, kvHeads, count, headDim] for <paramref name="ids"/>.</summary>
    private static IReadOnlyList<(Tensor Keys, Tensor Values)> KeyValuesOf(ILanguageModel model, int[] ids)
    {
        var input = IntTensor.FromArray(ids, 1, ids.Length);
        input.CheckRange("InitText token ids", model.Config.VocabSize);
        using var noGrad = Autograd.NoGrad();
        switch (model)
        {
            case CausalLanguageModel causal:
            {
                var cache = new DynamicCache(causal.CacheLayoutFor(1), ids.Length);
                using (new TensorScope()) causal.Forward(inputIds: input, cache: cache);
                return cache.ToLayerList();
            }
            case T5Model t5:
            {
                var layout = t5.DecoderCacheLayoutFor(1);
                var cache = new EncoderDecoderCache(new DynamicCache(layout, ids.Length), new DynamicCache(layout, ids.Length));
                using (new TensorScope()) t5.Forward(inputIds: input, decoderInputIds: input, cache: cache);
                return cache.SelfAttention.ToLayerList();
            }
            default:
                throw new ArgumentException($"Prefix tuning: TEXT initialization does not know model type {model.GetType().Name}.", nameof(model));
        }
    }

    /// <summary>
    /// Writes per-layer key/values [1, kvHeads, virtual, headDim] into the table (no projection):
    /// layer i's keys and values go to the chunks PEFT reads them from (for encoder-decoder models,
    /// where PEFT's layout makes layers share chunks, later layers win).
    /// </summary>
    private void SetFromKeyValues(IReadOnlyList<(Tensor Keys, Tensor Values)> perLayer)
    {
        var (_, layers, heads, headDim, submodules, _) = _sizes;
        int v = Config.NumVirtualTokens, width = 2 * layers * heads * headDim;
        var table = Embedding.Span;
        for (int i = 0; i < layers; i++)
        {
            int keyChunk = submodules == 2 ? (4 * i) % (2 * layers) : 2 * i;
            int valueChunk = submodules == 2 ? (4 * i + 1) % (2 * layers) : 2 * i + 1;
            foreach (var (chunk, source) in new[] { (keyChunk, perLayer[i].Keys), (valueChunk, perLayer[i].Values) })
            {
                int length = source.Shape[2];
                for (int h = 0; h < heads; h++)
                    for (int t = 0; t < v; t++)
                        source.Span.Slice((h * length + t) * headDim, headDim).CopyTo(table.Slice(t * width + (chunk * heads + h) * headDim, headDim));
            }
        }
        Embedding.MarkModified();
    }

    /// <summary>Wraps existing tensors (e.g. a training checkpoint of the projection).</summary>
    public static PrefixTuningAdapter FromTensors(PrefixTuningConfig config, ModelConfig model, Tensor embedding, IReadOnlyList<Tensor>? transform)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        return new PrefixTuningAdapter(config, model, embedding, transform?.ToArray());
    }

    /// <summary>
    /// Loads PEFT's adapter folder. Its <c>prompt_embeddings</c> are the final table (the
    /// projection's output when <c>prefix_projection</c> is set), used as is.
    /// </summary>
    public static PrefixTuningAdapter Load(string folder, ModelConfig model, Action<string>? warn = null)
    {
        PrefixTuningConfig config;
        using (var doc = AdapterFiles.ReadConfig(folder, "PREFIX_TUNING"))
            config = PrefixTuningConfig.FromJson(doc.RootElement, warn);
        var s = config.Resolve(model);
        int width = config.ChunkPlan(model).Chunks * s.TokenDim;
        var table = Tensor.Parameter(new float[config.NumVirtualTokens * width], new Shape(config.NumVirtualTokens, width), "prompt_embeddings");
        AdapterFiles.ReadWeights(folder, [table]);
        return new PrefixTuningAdapter(config, model, table, null);
    }

    /// <summary>PEFT's adapter folder: the final table, as PEFT saves it.</summary>
    public AdapterFileContents FileContents()
    {
        Tensor table;
        using (Autograd.NoGrad()) table = TensorScope.Keep(Table());
        table.Name = "prompt_embeddings";
        return new(Config.ToJson(Model), [table]);
    }

    /// <summary>The final table [virtual, layers·2·tokenDim] (through the projection when there is one).</summary>
    public Tensor Table()
    {
        if (Transform is null) return Embedding;
        var h = Ops.Tanh(Ops.Linear(Embedding, Transform[0], Transform[1]));
        return Ops.Linear(h, Transform[2], Transform[3]);
    }

    /// <inheritdoc/>
    public PrefixKeyValues Prefix(int batch) => PrefixFor(batch, _plan.Self);

    /// <inheritdoc/>
    public PrefixKeyValues? EncoderPrefix(int batch) => _plan.Encoder is { } plan ? PrefixFor(batch, plan) : null;

    /// <inheritdoc/>
    public PrefixKeyValues? CrossAttentionPrefix(int batch) => _plan.Cross is { } plan ? PrefixFor(batch, plan) : null;

    private PrefixKeyValues PrefixFor(int batch, (int Key, int Value)[] plan)
    {
        var (_, _, heads, headDim, _, _) = _sizes;
        int v = Config.NumVirtualTokens, count = _plan.Chunks;
        // [v, C·H·D] -> [v, C, H, D] -> [C, H, v, D]: chunk c is one layer's keys or values.
        var chunks = Ops.Permute(Ops.Reshape(Table(), v, count, heads, headDim), 1, 2, 0, 3);
        // One row per layer, shared by the batch: attention reads it for every row without a batch copy.
        var perLayer = new (Tensor, Tensor)[plan.Length];
        for (int i = 0; i < plan.Length; i++)
            perLayer[i] = (Ops.Slice(chunks, 0, plan[i].Key, 1), Ops.Slice(chunks, 0, plan[i].Value, 1));
        // The permuted table is used up once sliced (slicing's backward reads nothing).
        TensorScope.Release(chunks);
        return new PrefixKeyValues(perLayer, batch);
    }
}
