using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Loading;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.Gpt2;

// Shapes: B batch, T length, D hidden (= H*Hd), H heads, Hd head dim, I feed-forward size (n_inner).

/// <summary>One GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(x)).</summary>
internal sealed class Gpt2Block
{
    private readonly int _index;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly float _eps;
    private readonly float _scale;
    private readonly Tensor _ln1Weight, _ln1Bias, _ln2Weight, _ln2Bias;

    public Gpt2Block(int index, Configuration.ModelConfig config, ParameterSet parameters)
    {
        _index = index;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _eps = config.NormEpsilon;
        float scale = config.ScaleAttentionWeights ? 1f / MathF.Sqrt(_headDim) : 1f;
        if (config.ScaleAttentionByInverseLayerIndex) scale /= index + 1;
        _scale = scale;
        int d = config.HiddenSize, inner = config.IntermediateSize;
        string p = $"transformer.h.{index}.";
        _ln1Weight = parameters.Add(p + "ln_1.weight", new Shape(d));
        _ln1Bias = parameters.Add(p + "ln_1.bias", new Shape(d));
        // Weights held [out, in] (checkpoints store them [in, out]): c_attn [3*D, D], attn.c_proj [D, D], c_fc [I, D], mlp.c_proj [D, I].
        Attention = new LinearLayer(p + "attn.c_attn",
            parameters.Add(p + "attn.c_attn.weight", new Shape(3 * d, d), StoredLayout.TransposedConv1D),
            parameters.Add(p + "attn.c_attn.bias", new Shape(3 * d)));
        AttentionOutput = new LinearLayer(p + "attn.c_proj",
            parameters.Add(p + "attn.c_proj.weight", new Shape(d, d), StoredLayout.TransposedConv1D),
            parameters.Add(p + "attn.c_proj.bias", new Shape(d)));
        _ln2Weight = parameters.Add(p + "ln_2.weight", new Shape(d));
        _ln2Bias = parameters.Add(p + "ln_2.bias", new Shape(d));
        FeedForwardIn = new LinearLayer(p + "mlp.c_fc",
            parameters.Add(p + "mlp.c_fc.weight", new Shape(inner, d), StoredLayout.TransposedConv1D),
            parameters.Add(p + "mlp.c_fc.bias", new Shape(inner)));
        FeedForwardOut = new LinearLayer(p + "mlp.c_proj",
            parameters.Add(p + "mlp.c_proj.weight", new Shape(d, inner), StoredLayout.TransposedConv1D),
            parameters.Add(p + "mlp.c_proj.bias", new Shape(d)));
    }

    public LinearLayer Attention { get; }

    public LinearLayer AttentionOutput { get; }

    public LinearLayer FeedForwardIn { get; }

    public LinearLayer FeedForwardOut { get; }

    public IEnumerable<LinearLayer> Linears => [Attention, AttentionOutput, FeedForwardIn, FeedForwardOut];

    /// <summary>
    /// Runs the block. Every intermediate is released as soon as it is used up (see
    /// <see cref="TensorScope.Release"/>), so a training step keeps only what backward reads.
    /// </summary>
    /// <param name="x">The block's input [B, T, D] (kept: the caller releases it).</param>
    /// <param name="mask">The additive mask [B, 1, T, keys].</param>
    /// <param name="cache">The cache to append to, or null.</param>
    /// <param name="prefix">Prefix key/values, or null.</param>
    /// <param name="outputRows">Compute only the last this many positions past the keys and values (0 = all): the output is [B, outputRows, D].</param>
    public Tensor Forward(Tensor x, Tensor mask, Cache? cache, PrefixKeyValues? prefix, int outputRows = 0)
    {
        int d = _heads * _headDim;
        var qkv = Intermediates.Through(Attention, Ops.LayerNorm(x, _ln1Weight, _ln1Bias, _eps)); // [B, T, 3*D]
        // q, k, v: [B, H, T, Hd] each, from columns [0, D), [D, 2*D) and [2*D, 3*D) of qkv
        var q = Ops.SplitHeads(qkv, 0, _heads, _headDim);
        var k = Ops.SplitHeads(qkv, d, _heads, _headDim);
        var v = Ops.SplitHeads(qkv, 2 * d, _heads, _headDim);
        TensorScope.Release(qkv);
        var (queryMask, residual) = (mask, x);
        bool lastRows = AttentionCore.KeepsLastRows(outputRows, x.Shape[1]);
        if (lastRows)
        {
            // T = outputRows from here.
            q = AttentionCore.LastQueries(q, outputRows);
            (queryMask, residual) = AttentionCore.LastRows(mask, x, outputRows);
        }
        var attended = AttentionCore.Attend(_index, q, k, v, cache, prefix, queryMask, null, _scale, replaceFutureScores: true); // [B, H, T, Hd]
        var mid = Intermediates.AddTo(residual, AttentionCore.ProjectHeads(AttentionOutput, attended)); // [B, T, D]
        if (lastRows)
        {
            TensorScope.Release(queryMask);
            TensorScope.Release(residual);
        }
        var inner = Intermediates.Through(FeedForwardIn, Ops.LayerNorm(mid, _ln2Weight, _ln2Bias, _eps)); // [B, T, I]
        var activated = Ops.Gelu(inner, GeluApproximation.Tanh); // [B, T, I]
        TensorScope.Release(inner);
        var y = Intermediates.AddTo(mid, Intermediates.Through(FeedForwardOut, activated)); // [B, T, D]
        TensorScope.Release(mid);
        return y;
    }
}
