using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Masking;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.Gpt2;

// Shapes: B batch, T length, D hidden, V vocabulary, M max positions (n_positions).

/// <summary>
/// GPT-2 (<c>GPT2LMHeadModel</c>): learned token and position embeddings, pre-LayerNorm blocks
/// with fused Conv1D attention (held here in nn.Linear layout), GELU (tanh) MLP, and an output
/// head tied to the token embedding.
/// </summary>
public sealed class Gpt2Model : CausalLanguageModel
{
    private readonly Gpt2Block[] _blocks;
    private readonly Tensor _wte, _wpe, _lnFWeight, _lnFBias;
    private readonly LinearLayer[] _linears;

    /// <summary>Builds the model with zero weights (fill them by loading or initialization).</summary>
    public Gpt2Model(ModelConfig config)
        : base(config)
    {
        if (config.Family != ModelFamily.Gpt2)
            throw new ArgumentException($"Gpt2Model needs a gpt2 config; got model_type '{config.ModelType}'.", nameof(config));
        if (config.HiddenActivation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new ModelConfigException(config.Source, "activation_function",
                $"is '{config.HiddenActivation}'; supported for gpt2: gelu_new, gelu_pytorch_tanh.");
        _wte = Parameters.Add("transformer.wte.weight", new Shape(config.VocabSize, config.HiddenSize)); // [V, D]
        _wpe = Parameters.Add("transformer.wpe.weight", new Shape(config.MaxPositionEmbeddings, config.HiddenSize)); // [M, D]
        _blocks = new Gpt2Block[config.NumLayers];
        for (int i = 0; i < _blocks.Length; i++) _blocks[i] = new Gpt2Block(i, config, Parameters);
        _lnFWeight = Parameters.Add("transformer.ln_f.weight", new Shape(config.HiddenSize));
        _lnFBias = Parameters.Add("transformer.ln_f.bias", new Shape(config.HiddenSize));
        _linears = _blocks.SelectMany(b => b.Linears).ToArray();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<LinearLayer> LinearLayers => _linears;

    /// <inheritdoc/>
    public override Tensor TokenEmbeddings => _wte;

    /// <inheritdoc/>
    protected override MaskStyle MaskStyle => MaskStyle.Gpt2;

    /// <inheritdoc/>
    protected override Tensor RunLayers(Tensor embeddings, IntTensor positionIds, Tensor additiveMask, Cache? cache, PrefixKeyValues? prefix,
        List<Tensor>? hiddenStates, int outputRows)
    {
        positionIds.CheckRange("position_ids", Config.MaxPositionEmbeddings);
        var positions = Ops.Embedding(positionIds, _wpe); // [B, T, D]
        var h = Ops.Add(embeddings, positions); // [B, T, D]
        TensorScope.Release(positions);
        hiddenStates?.Add(h);
        for (int i = 0; i < _blocks.Length; i++)
        {
            var block = _blocks[i];
            var input = h;
            // Only the last block may drop positions: the others give the keys and values of every one.
            int rows = i == _blocks.Length - 1 ? outputRows : 0;
            h = Checkpointed(cache)
                ? Ops.Checkpoint(x => block.Forward(x, additiveMask, null, prefix, rows), h, SideInputs(prefix, i))
                : block.Forward(h, additiveMask, cache, prefix, rows);
            // A block's input is used up once the next one has it (unless the caller asked for it).
            if (hiddenStates is null) TensorScope.Release(input);
            else if (i < _blocks.Length - 1) hiddenStates.Add(h);
        }
        var last = h;
        h = Ops.LayerNorm(h, _lnFWeight, _lnFBias, Config.NormEpsilon); // [B, T, D]
        if (hiddenStates is null) TensorScope.Release(last);
        hiddenStates?.Add(h);
        return h;
    }

    /// <inheritdoc/>
    protected override Tensor Head(Tensor hidden) => Ops.Linear(hidden, _wte); // [B, T, D] -> [B, T, V]

    /// <inheritdoc/>
    protected override void HeadArgMax(Tensor hidden, Span<int> ids) => Ops.LinearArgMax(hidden, _wte, ids);

    /// <inheritdoc/>
    protected override Tensor HeadWeight => _wte;
}
