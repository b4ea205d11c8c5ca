using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PromptTuning;

/// <summary>
/// Prompt tuning: trainable virtual-token embeddings [virtual·submodules, hidden] (saved as
/// <c>prompt_embeddings</c>) of which the first <c>num_virtual_tokens</c> rows are prepended to
/// the input embeddings. For encoder-decoder models PEFT allocates a second block of rows that it
/// never uses; they are kept (and get zero gradient) so files move both ways.
/// </summary>
public sealed class PromptTuningAdapter : IVirtualTokenAdapter
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<PromptTuningConfig>("PROMPT_TUNING",
        (config, model, seed, tokenize) => Create(config, model.Config, model.TokenEmbeddings, seed, tokenize),
        (folder, model, warn) => Load(folder, model.Config, model.TokenEmbeddings, warn));

    private PromptTuningAdapter(PromptTuningConfig config, ModelConfig model, Tensor embeddings)
    {
        Config = config;
        Model = model;
        Embeddings = embeddings;
    }

    /// <summary>The settings.</summary>
    public PromptTuningConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <inheritdoc/>
    public int NumVirtualTokens => Config.NumVirtualTokens;

    /// <inheritdoc/>
    public bool NeedsTaskIds => false;

    /// <summary>The base model's config the sizes were resolved against.</summary>
    public ModelConfig Model { get; }

    /// <summary>All virtual-token rows (the trainable parameter).</summary>
    public Tensor Embeddings { get; }

    /// <inheritdoc/>
    public IEnumerable<Tensor> Parameters => [Embeddings];

    /// <summary>Creates a fresh adapter for a model with the given token embedding table.</summary>
    /// <param name="config">The settings.</param>
    /// <param name="model">The base model's config.</param>
    /// <param name="tokenEmbeddings">The base model's token embeddings (SAMPLE_VOCAB and TEXT read rows of it).</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer (text to ids, special tokens included), needed for TEXT init.</param>
    public static PromptTuningAdapter Create(PromptTuningConfig config, ModelConfig model, Tensor tokenEmbeddings, ulong seed = 0,
        Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        var (dim, _, _, submodules) = config.Resolve(model);
        var shape = new Shape(config.NumVirtualTokens * submodules, dim);
        var random = new SeededRandom(seed);
        Tensor embeddings;
        HfEnumNames.RequireDefined(config.PromptTuningInit, "prompt_tuning_init", "Prompt tuning");
        switch (config.PromptTuningInit)
        {
            case PromptTuningInit.Random:
                embeddings = TensorInit.Normal(shape, 0f, 1f, random, "prompt_embeddings");
                break;
            case PromptTuningInit.SampleVocab:
                var values = new float[shape.ElementCount];
                for (int r = 0; r < shape[0]; r++)
                    tokenEmbeddings.Span.Slice(random.NextInt(model.VocabSize) * dim, dim).CopyTo(values.AsSpan(r * dim));
                embeddings = Tensor.Parameter(values, shape, "prompt_embeddings");
                break;
            default:
                embeddings = Tensor.Parameter(TextInitialization.Rows(config.PromptTuningInitText, shape[0], tokenize, tokenEmbeddings), shape,
                    "prompt_embeddings");
                break;
        }
        return new PromptTuningAdapter(config, model, embeddings);
    }

    /// <summary>Loads PEFT's adapter folder for a model.</summary>
    public static PromptTuningAdapter Load(string folder, ModelConfig model, Tensor tokenEmbeddings, Action<string>? warn = null)
    {
        PromptTuningConfig config;
        using (var doc = AdapterFiles.ReadConfig(folder, "PROMPT_TUNING"))
            config = PromptTuningConfig.FromJson(doc.RootElement, warn);
        // The stored values replace the initialization, so TEXT-initialized files load too.
        var adapter = Create(config with { PromptTuningInit = PromptTuningInit.Random }, model, tokenEmbeddings);
        AdapterFiles.ReadWeights(folder, adapter.Parameters);
        return new PromptTuningAdapter(config, model, adapter.Embeddings);
    }

    /// <inheritdoc/>
    public AdapterFileContents FileContents() => new(Config.ToJson(Model), [.. Parameters]);

    /// <inheritdoc/>
    public Tensor VirtualTokens(int batch, IntTensor? taskIds) => VirtualTokens();

    /// <summary>The virtual tokens that are used: [num_virtual_tokens, hidden] (differentiable).</summary>
    public Tensor VirtualTokens() =>
        Embeddings.Shape[0] == Config.NumVirtualTokens ? Embeddings : Ops.Slice(Embeddings, 0, 0, Config.NumVirtualTokens);

    /// <summary>
    /// PEFT's forward inputs: virtual embeddings before each row's token embeddings, the mask
    /// extended with ones, labels extended with -100 (causal models only; null stays null).
    /// </summary>
    public (Tensor Embeddings, IntTensor Mask, IntTensor? Labels) Prepend(Tensor tokenEmbeddings, IntTensor? attentionMask, IntTensor? labels) =>
        VirtualTokenInputs.Prepend(VirtualTokens(), tokenEmbeddings, attentionMask, labels);
}
