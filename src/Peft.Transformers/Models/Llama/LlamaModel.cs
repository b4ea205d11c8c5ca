using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Masking;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.Llama;

// Shapes: B batch, T length, D hidden, V vocabulary.

/// <summary>
/// Llama, Qwen2 and Mistral (<c>LlamaForCausalLM</c> and relatives): RMSNorm, rotary positions,
/// grouped-query attention, SwiGLU MLP, optional q/k/v biases and sliding window, untied or tied head.
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    private readonly LlamaBlock[] _blocks;
    private readonly Tensor _embed, _norm, _head;
    private readonly LinearLayer[] _linears;

    /// <summary>Builds the model with zero weights (fill them by loading or initialization).</summary>
    public LlamaModel(ModelConfig config)
        : base(config)
    {
        if (config.Family is not (ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Mistral))
            throw new ArgumentException($"LlamaModel needs a llama, qwen2 or mistral config; got model_type '{config.ModelType}'.", nameof(config));
        if (config.HiddenActivation != "silu")
            throw new ModelConfigException(config.Source, "hidden_act", $"is '{config.HiddenActivation}'; supported: silu.");
        _embed = Parameters.Add("model.embed_tokens.weight", new Shape(config.VocabSize, config.HiddenSize)); // [V, D]
        _blocks = new LlamaBlock[config.NumLayers];
        for (int i = 0; i < _blocks.Length; i++) _blocks[i] = new LlamaBlock(i, config, Parameters);
        _norm = Parameters.Add("model.norm.weight", new Shape(config.HiddenSize));
        _head = config.TieWordEmbeddings ? _embed : Parameters.Add("lm_head.weight", new Shape(config.VocabSize, config.HiddenSize)); // [V, D]
        _linears = _blocks.SelectMany(b => b.Linears).ToArray();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<LinearLayer> LinearLayers => _linears;

    /// <inheritdoc/>
    public override Tensor TokenEmbeddings => _embed;

    /// <inheritdoc/>
    protected override MaskStyle MaskStyle => MaskStyle.MinValue;

    /// <inheritdoc/>
    protected override int? SlidingWindow => Config.SlidingWindow;

    /// <inheritdoc/>
    protected override Tensor RunLayers(Tensor embeddings, IntTensor positionIds, Tensor additiveMask, Cache? cache, PrefixKeyValues? prefix,
        List<Tensor>? hiddenStates, int outputRows)
    {
        var h = embeddings; // [B, T, D]
        hiddenStates?.Add(h);
        for (int i = 0; i < _blocks.Length; i++)
        {
            var block = _blocks[i];
            var input = h;
            // Only the last block may drop positions: the others give the keys and values of every one.
            int rows = i == _blocks.Length - 1 ? outputRows : 0;
            h = Checkpointed(cache)
                ? Ops.Checkpoint(x => block.Forward(x, positionIds, additiveMask, null, prefix, rows), h, SideInputs(prefix, i))
                : block.Forward(h, positionIds, additiveMask, cache, prefix, rows);
            // A block's input is used up once the next one has it (the embeddings may be the caller's: kept).
            if (hiddenStates is null && i > 0) TensorScope.Release(input);
            else if (hiddenStates is not null && i < _blocks.Length - 1) hiddenStates.Add(h);
        }
        var last = h;
        h = Ops.RmsNorm(h, _norm, Config.NormEpsilon); // [B, T, D]
        if (hiddenStates is null && _blocks.Length > 0) TensorScope.Release(last);
        hiddenStates?.Add(h);
        return h;
    }

    /// <inheritdoc/>
    protected override Tensor Head(Tensor hidden) => Ops.Linear(hidden, _head); // [B, T, D] -> [B, T, V]

    /// <inheritdoc/>
    protected override void HeadArgMax(Tensor hidden, Span<int> ids) => Ops.LinearArgMax(hidden, _head, ids);

    /// <inheritdoc/>
    protected override Tensor HeadWeight => _head;
}
