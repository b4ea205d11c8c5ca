using Peft.Tensors;
using Peft.Transformers.Caching;

namespace Peft.Transformers.Models;

// Shapes: B batch, T new (query) length, D hidden, H query heads, Hkv key/value heads, Hd head dim,
// P prefix length, K attended keys (cached, or P + T); heads is the argument of that name (H or Hkv).

/// <summary>
/// The attention step every family shares once it has its queries, keys and values in head
/// layout: append to the cache or put the prefix in front, attend with the family's additive
/// mask (and T5's position bias), and merge the heads back to [batch, length, heads·headDim].
/// </summary>
internal static class AttentionCore
{
    /// <summary>Splits [batch, length, heads·headDim] into [batch, heads, length, headDim].</summary>
    public static Tensor SplitHeads(Tensor x, int heads, int headDim) => Ops.SplitHeads(x, 0, heads, headDim);

    /// <summary>Projects <paramref name="x"/> and splits the result into heads, releasing the projection's flat copy.</summary>
    public static Tensor ProjectToHeads(Modules.LinearLayer projection, Tensor x, int heads, int headDim)
    {
        var flat = projection.Forward(x); // [B, T, heads*Hd]
        var split = SplitHeads(flat, heads, headDim); // [B, heads, T, Hd]
        TensorScope.Release(flat);
        return split;
    }

    /// <summary>
    /// Merges attended heads [batch, heads, length, headDim] and applies the output projection,
    /// releasing the merged copy (the projection's frozen weight does not need it in backward).
    /// </summary>
    public static Tensor ProjectHeads(Modules.LinearLayer projection, Tensor attended)
    {
        var merged = MergeHeads(attended); // [B, T, H*Hd]
        var projected = projection.Forward(merged); // [B, T, D]
        TensorScope.Release(merged);
        TensorScope.Release(attended);
        return projected;
    }

    /// <summary>
    /// Whether a block computes only its last <paramref name="outputRows"/> of <paramref name="length"/> positions past
    /// attention (0 = every position; see <see cref="LastQueries"/>).
    /// </summary>
    public static bool KeepsLastRows(int outputRows, int length) => outputRows > 0 && outputRows < length;

    /// <summary>
    /// The last block of a pass that scores only its last <paramref name="outputRows"/> positions (generation's prompt
    /// pass) still gives every position's keys and values (the cache holds them all), but only those rows need queries,
    /// attention and the rest of the block: the last rows of <paramref name="queries"/> [batch, heads, length, headDim],
    /// which is released. Query row i then sits at key position keys − outputRows + i, as attention assumes.
    /// </summary>
    public static Tensor LastQueries(Tensor queries, int outputRows)
    {
        int length = queries.Shape[2];
        var last = Ops.Slice(queries, 2, length - outputRows, outputRows);
        TensorScope.Release(queries);
        return last;
    }

    /// <summary>
    /// The mask rows and residual rows that go with <see cref="LastQueries"/>: the last <paramref name="outputRows"/>
    /// rows of <paramref name="additiveMask"/> [batch or 1, heads or 1, length, keys] and of <paramref name="residual"/>
    /// [batch, length, hidden], both kept (the mask serves every layer, the residual is the caller's).
    /// </summary>
    public static (Tensor Mask, Tensor Residual) LastRows(Tensor additiveMask, Tensor residual, int outputRows)
    {
        int length = residual.Shape[1];
        return (Ops.Slice(additiveMask, 2, length - outputRows, outputRows), Ops.Slice(residual, 1, length - outputRows, outputRows));
    }

    /// <summary>Merges [batch, heads, length, headDim] into [batch, length, heads·headDim].</summary>
    public static Tensor MergeHeads(Tensor x) => Ops.MergeHeads(x);

    /// <summary>
    /// Attends queries [batch, Hq, Tq, D] to the layer's keys/values: the cache's contents after
    /// appending <paramref name="keys"/>/<paramref name="values"/> [batch, Hkv, Tq, D] when a cache
    /// is given, else the prefix (if any) followed by the new keys/values.
    /// </summary>
    public static Tensor Attend(int layer, Tensor queries, Tensor keys, Tensor values, Cache? cache, PrefixKeyValues? prefix,
        Tensor additiveMask, Tensor? positionBias, float scale, bool replaceFutureScores = false)
    {
        Tensor k = keys, v = values;
        Tensor attended;
        if (cache is not null && !queries.RequiresGrad && !keys.RequiresGrad && !values.RequiresGrad && positionBias is not { RequiresGrad: true })
        {
            // Inference reads the cache's storage in place; a pass that needs gradients gets a copy.
            cache.Append(layer, keys, values);
            var (storedKeys, storedValues) = cache.Storage(layer); // [B, Hkv, capacity, Hd] each, the first K rows valid
            // attended: [B, H, T, Hd]
            attended = Ops.ScaledDotProductAttention(queries, storedKeys, storedValues, additiveMask, positionBias, scale, replaceFutureScores,
                cache.GetLength(layer));
        }
        else
        {
            Tensor? prefixKeys = null, prefixValues = null;
            if (cache is not null)
            {
                cache.Append(layer, keys, values);
                (k, v) = ValidCacheRows(cache, layer); // [B, Hkv, K, Hd] each
            }
            else if (prefix is not null)
            {
                // Attended in front of the new keys without a concatenated copy (nor a batch copy of a shared prefix):
                // a training step keeps only the new rows and the prefix itself.
                (prefixKeys, prefixValues) = prefix.Source(layer); // [B or 1, Hkv, P, Hd] each
            }
            attended = Ops.ScaledDotProductAttention(queries, k, v, additiveMask, positionBias, scale, replaceFutureScores,
                prefixKeys: prefixKeys, prefixValues: prefixValues); // [B, H, T, Hd]
        }
        // The caller's queries, keys and values, and any copies made here, are used up (backward
        // keeps what it reads); the cache holds its own copy.
        TensorScope.Release(queries);
        TensorScope.Release(keys);
        TensorScope.Release(values);
        if (!ReferenceEquals(k, keys))
        {
            TensorScope.Release(k);
            TensorScope.Release(v);
        }
        return attended;
    }

    /// <summary>
    /// The layer's prefix in front of <paramref name="keys"/> and <paramref name="values"/> [batch, kvHeads, length, headDim]:
    /// [batch, kvHeads, prefix + length, headDim] each. A shared prefix's batch copies are made for this and released after.
    /// </summary>
    public static (Tensor Keys, Tensor Values) Prepend(PrefixKeyValues prefix, int layer, Tensor keys, Tensor values)
    {
        var (prefixKeys, prefixValues) = prefix[layer];
        var k = Ops.Concat([prefixKeys, keys], 2);
        var v = Ops.Concat([prefixValues, values], 2);
        if (prefix.IsShared)
        {
            TensorScope.Release(prefixKeys);
            TensorScope.Release(prefixValues);
        }
        return (k, v);
    }

    /// <summary>The valid rows of one cache layer as contiguous [batch, kvHeads, length, headDim] tensors.</summary>
    public static (Tensor Keys, Tensor Values) ValidCacheRows(Cache cache, int layer)
    {
        var layout = cache.Layout;
        int length = cache.GetLength(layer), d = layout.HeadDim;
        var shape = new Shape(layout.BatchSize, layout.KeyValueHeads, length, d); // [B, Hkv, K, Hd]
        var k = Tensor.Zeros(shape);
        var v = Tensor.Zeros(shape);
        var ks = k.Span;
        var vs = v.Span;
        for (int b = 0; b < layout.BatchSize; b++)
        {
            for (int h = 0; h < layout.KeyValueHeads; h++)
            {
                int at = (b * layout.KeyValueHeads + h) * length * d;
                cache.KeyBlock(layer, b, h).CopyTo(ks.Slice(at));
                cache.ValueBlock(layer, b, h).CopyTo(vs.Slice(at));
            }
        }
        return (k, v);
    }
}
