using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.T5;

// Shapes: B batch, T query length (decoder length, or S in the encoder), S source length, D hidden (d_model),
// H heads, Hd head dim (d_kv; H*Hd need not equal D), P prefix length, K self-attention keys (cached,
// or P + T).

/// <summary>T5 attention (self or cross): q/k/v/o projections without bias and without score scaling.</summary>
internal sealed class T5Attention
{
    private readonly int _heads, _headDim;

    public T5Attention(string prefix, int hidden, int heads, int headDim, ParameterSet parameters)
    {
        _heads = heads;
        _headDim = headDim;
        Query = new LinearLayer(prefix + ".q", parameters.Add(prefix + ".q.weight", new Shape(heads * headDim, hidden)), null); // [H*Hd, D]
        Key = new LinearLayer(prefix + ".k", parameters.Add(prefix + ".k.weight", new Shape(heads * headDim, hidden)), null); // [H*Hd, D]
        Value = new LinearLayer(prefix + ".v", parameters.Add(prefix + ".v.weight", new Shape(heads * headDim, hidden)), null); // [H*Hd, D]
        Output = new LinearLayer(prefix + ".o", parameters.Add(prefix + ".o.weight", new Shape(hidden, heads * headDim)), null); // [D, H*Hd]
    }

    public LinearLayer Query { get; }

    public LinearLayer Key { get; }

    public LinearLayer Value { get; }

    public LinearLayer Output { get; }

    public IEnumerable<LinearLayer> Linears => [Query, Key, Value, Output];

    /// <summary>Self-attention over <paramref name="x"/> (with cache/prefix for the decoder).</summary>
    public Tensor SelfAttend(int layer, Tensor x, Tensor mask, Tensor bias, Cache? cache, PrefixKeyValues? prefix)
    {
        var q = AttentionCore.ProjectToHeads(Query, x, _heads, _headDim); // [B, H, T, Hd]
        var k = AttentionCore.ProjectToHeads(Key, x, _heads, _headDim); // [B, H, T, Hd]
        var v = AttentionCore.ProjectToHeads(Value, x, _heads, _headDim); // [B, H, T, Hd]
        var attended = AttentionCore.Attend(layer, q, k, v, cache, prefix, mask, bias, 1f); // [B, H, T, Hd]
        return AttentionCore.ProjectHeads(Output, attended); // [B, T, D]
    }

    /// <summary>
    /// Cross-attention from <paramref name="x"/> to the encoder output (keys/values cached after the
    /// first step), with an optional prefix in front of the encoder's keys/values.
    /// </summary>
    public Tensor CrossAttend(int layer, Tensor x, Tensor encoderOutput, Tensor mask, Cache? crossCache, PrefixKeyValues? prefix = null)
    {
        var q = AttentionCore.ProjectToHeads(Query, x, _heads, _headDim); // [B, H, T, Hd]
        Tensor k, v;
        if (crossCache is not null && crossCache.GetLength(layer) > 0)
        {
            if (!q.RequiresGrad)
            {
                var (storedKeys, storedValues) = crossCache.Storage(layer); // [B, H, capacity, Hd] each, the first P+S rows valid
                // inPlace: [B, H, T, Hd]
                var inPlace = Ops.ScaledDotProductAttention(q, storedKeys, storedValues, mask, null, 1f, validKeys: crossCache.GetLength(layer));
                TensorScope.Release(q);
                return AttentionCore.ProjectHeads(Output, inPlace); // [B, T, D]
            }
            (k, v) = AttentionCore.ValidCacheRows(crossCache, layer); // [B, H, P+S, Hd] each
        }
        else
        {
            k = AttentionCore.ProjectToHeads(Key, encoderOutput, _heads, _headDim); // [B, H, S, Hd]
            v = AttentionCore.ProjectToHeads(Value, encoderOutput, _heads, _headDim); // [B, H, S, Hd]
            if (prefix is not null)
            {
                var (unprefixedKeys, unprefixedValues) = (k, v);
                (k, v) = AttentionCore.Prepend(prefix, layer, k, v); // [B, H, P+S, Hd] each
                TensorScope.Release(unprefixedKeys);
                TensorScope.Release(unprefixedValues);
            }
            crossCache?.Append(layer, k, v);
        }
        var attended = Ops.ScaledDotProductAttention(q, k, v, mask, null, 1f); // [B, H, T, Hd]
        TensorScope.Release(q);
        TensorScope.Release(k);
        TensorScope.Release(v);
        return AttentionCore.ProjectHeads(Output, attended); // [B, T, D]
    }
}
