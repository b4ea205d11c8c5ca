using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.Llama;

// Shapes: B batch, T length, D hidden, H query heads, Hkv key/value heads, Hd head dim, I intermediate size.

/// <summary>
/// One Llama-family decoder layer: x + o_proj(attn(RMSNorm(x))) with RoPE and grouped-query
/// heads, then + down_proj(silu(gate_proj(h)) ⊙ up_proj(h)) on RMSNorm(x).
/// </summary>
internal sealed class LlamaBlock
{
    private readonly int _index;
    private readonly int _heads, _kvHeads, _headDim;
    private readonly float _eps, _theta, _scale;
    private readonly Tensor _inputNorm, _postNorm;

    public LlamaBlock(int index, ModelConfig config, ParameterSet parameters)
    {
        _index = index;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _eps = config.NormEpsilon;
        _theta = config.RopeTheta;
        _scale = 1f / MathF.Sqrt(_headDim);
        int d = config.HiddenSize, inner = config.IntermediateSize;
        bool qkvBias = config.AttentionBias;
        // Qwen2 has biases on q/k/v only; Llama's attention_bias covers o_proj too.
        bool outBias = config.Family == ModelFamily.Llama && config.AttentionBias;
        string p = $"model.layers.{index}.";
        _inputNorm = parameters.Add(p + "input_layernorm.weight", new Shape(d));
        Query = Linear(parameters, p + "self_attn.q_proj", _heads * _headDim, d, qkvBias); // [H*Hd, D]
        Key = Linear(parameters, p + "self_attn.k_proj", _kvHeads * _headDim, d, qkvBias); // [Hkv*Hd, D]
        Value = Linear(parameters, p + "self_attn.v_proj", _kvHeads * _headDim, d, qkvBias); // [Hkv*Hd, D]
        Output = Linear(parameters, p + "self_attn.o_proj", d, _heads * _headDim, outBias); // [D, H*Hd]
        _postNorm = parameters.Add(p + "post_attention_layernorm.weight", new Shape(d));
        Gate = Linear(parameters, p + "mlp.gate_proj", inner, d, config.MlpBias); // [I, D]
        Up = Linear(parameters, p + "mlp.up_proj", inner, d, config.MlpBias); // [I, D]
        Down = Linear(parameters, p + "mlp.down_proj", d, inner, config.MlpBias); // [D, I]
    }

    private static LinearLayer Linear(ParameterSet parameters, string name, int outFeatures, int inFeatures, bool bias) =>
        new(name, parameters.Add(name + ".weight", new Shape(outFeatures, inFeatures)), bias ? parameters.Add(name + ".bias", new Shape(outFeatures)) : null);

    public LinearLayer Query { get; }

    public LinearLayer Key { get; }

    public LinearLayer Value { get; }

    public LinearLayer Output { get; }

    public LinearLayer Gate { get; }

    public LinearLayer Up { get; }

    public LinearLayer Down { get; }

    public IEnumerable<LinearLayer> Linears => [Query, Key, Value, Output, Gate, Up, Down];

    /// <summary>Runs the block on <paramref name="x"/> [B, T, D] (kept: the caller releases it).</summary>
    /// <param name="x">The block's input.</param>
    /// <param name="positionIds">[B, T] positions for the rotary embedding.</param>
    /// <param name="mask">The additive mask [B, 1, T, keys].</param>
    /// <param name="cache">The cache to append to, or null.</param>
    /// <param name="prefix">Prefix key/values, or null.</param>
    /// <param name="outputRows">Compute only the last this many positions past the keys and values (0 = all): the output is [B, outputRows, D].</param>
    public Tensor Forward(Tensor x, IntTensor positionIds, Tensor mask, Cache? cache, PrefixKeyValues? prefix, int outputRows = 0)
    {
        // Intermediates are released as soon as they are used up, so training keeps only what backward reads.
        var a = Ops.RmsNorm(x, _inputNorm, _eps); // [B, T, D]
        var (queryInput, queryPositions) = (a, positionIds);
        bool lastRows = AttentionCore.KeepsLastRows(outputRows, x.Shape[1]);
        if (lastRows)
        {
            // Only the last rows need queries: project those alone (the queries' T is outputRows).
            queryInput = Ops.Slice(a, 1, x.Shape[1] - outputRows, outputRows);
            queryPositions = LastPositions(positionIds, outputRows);
        }
        var q = Rotated(AttentionCore.ProjectToHeads(Query, queryInput, _heads, _headDim), queryPositions); // [B, H, T, Hd]
        if (lastRows) TensorScope.Release(queryInput);
        var k = Rotated(AttentionCore.ProjectToHeads(Key, a, _kvHeads, _headDim), positionIds); // [B, Hkv, T, Hd]
        var v = AttentionCore.ProjectToHeads(Value, a, _kvHeads, _headDim); // [B, Hkv, T, Hd]
        TensorScope.Release(a);
        var (queryMask, residual) = (mask, x);
        if (lastRows) (queryMask, residual) = AttentionCore.LastRows(mask, x, outputRows);
        var attended = AttentionCore.Attend(_index, q, k, v, cache, prefix, queryMask, null, _scale); // [B, H, T, Hd]
        var mid = Intermediates.AddTo(residual, AttentionCore.ProjectHeads(Output, attended)); // [B, T, D]
        if (lastRows)
        {
            TensorScope.Release(queryMask);
            TensorScope.Release(residual);
        }
        var m = Ops.RmsNorm(mid, _postNorm, _eps); // [B, T, D]
        var gate = Gate.Forward(m); // [B, T, I]
        var up = Up.Forward(m); // [B, T, I]
        TensorScope.Release(m);
        var activated = Ops.Silu(gate); // [B, T, I]
        TensorScope.Release(gate);
        var gated = Ops.Multiply(activated, up); // [B, T, I]
        TensorScope.Release(activated);
        TensorScope.Release(up);
        var y = Intermediates.AddTo(mid, Intermediates.Through(Down, gated)); // [B, T, D]
        TensorScope.Release(mid);
        return y;
    }

    /// <summary>The last <paramref name="rows"/> columns of <paramref name="positionIds"/> [B, T].</summary>
    private static IntTensor LastPositions(IntTensor positionIds, int rows)
    {
        int batch = positionIds.Shape[0], length = positionIds.Shape[1];
        var last = IntTensor.Zeros(new Shape(batch, rows));
        for (int b = 0; b < batch; b++) positionIds.Span.Slice(b * length + length - rows, rows).CopyTo(last.Span.Slice(b * rows, rows));
        return last;
    }

    private Tensor Rotated(Tensor heads, IntTensor positionIds)
    {
        var rotated = Ops.ApplyRope(heads, positionIds, _theta); // [B, H or Hkv, T, Hd], as the input
        TensorScope.Release(heads);
        return rotated;
    }
}
