using Peft.Tensors;

namespace Peft.Transformers.Masking;

/// <summary>
/// Builds the additive attention masks ([batch, 1, queries, keys], added to the scores before
/// softmax) exactly as Hugging Face's eager attention computes them, in one place for every
/// family. Query i of a block of <c>queries</c> sits at key position <c>keys − queries + i</c>:
/// the keys hold any prefix and cached positions in front of the new ones.
/// </summary>
public static class AttentionMasks
{
    /// <summary>float32's most negative finite value (torch.finfo(float32).min).</summary>
    public const float MinValue = float.MinValue;

    /// <summary>
    /// A causal mask (for <see cref="MaskStyle.Gpt2"/> only the padding part: attention replaces
    /// the causal part itself) combined with an optional key padding mask <paramref name="keyMask"/>
    /// [batch, keys] (1 = attend, 0 = padding), and an optional sliding window (a key more than
    /// window − 1 positions behind the query is hidden).
    /// </summary>
    public static Tensor Causal(int batch, int queries, int keys, IntTensor? keyMask, MaskStyle style, int? slidingWindow = null)
    {
        Validate(batch, queries, keys, keyMask);
        if (queries > keys)
            throw new ArgumentException($"Causal mask: {queries} queries cannot exceed {keys} keys (the keys include the queries' own positions).");
        var mask = Tensor.Zeros(new Shape(batch, 1, queries, keys));
        var m = mask.Span;
        ReadOnlySpan<int> pad = keyMask is null ? default : keyMask.Span;
        int offset = keys - queries;
        for (int b = 0; b < batch; b++)
        {
            for (int q = 0; q < queries; q++)
            {
                int qPos = offset + q;
                var row = m.Slice((b * queries + q) * keys, keys);
                for (int k = 0; k < keys; k++)
                {
                    bool hidden = k > qPos || (slidingWindow is int w && qPos - k >= w);
                    bool padded = keyMask is not null && pad[b * keys + k] == 0;
                    row[k] = style == MaskStyle.Gpt2
                        ? (padded ? MinValue : 0f)
                        : hidden || padded ? MinValue : 0f;
                }
            }
        }
        return mask;
    }

    /// <summary>
    /// A key mask [batch, count + length] with <paramref name="count"/> always-attended columns in
    /// front of <paramref name="keyMask"/> [batch, length] (all ones when null): the columns of a
    /// prefix's or virtual tokens' positions.
    /// </summary>
    public static IntTensor WithLeadingOnes(IntTensor? keyMask, int batch, int length, int count)
    {
        if (keyMask is not null && (keyMask.Shape.Rank != 2 || keyMask.Shape[0] != batch || keyMask.Shape[1] != length))
            throw new ArgumentException($"Attention mask {keyMask.Shape} must be [batch {batch}, {length}].", nameof(keyMask));
        var result = IntTensor.Zeros(new Shape(batch, count + length));
        for (int b = 0; b < batch; b++)
        {
            result.Span.Slice(b * (count + length), count).Fill(1);
            if (keyMask is null) result.Span.Slice(b * (count + length) + count, length).Fill(1);
            else keyMask.Span.Slice(b * length, length).CopyTo(result.Span.Slice(b * (count + length) + count));
        }
        return result;
    }

    /// <summary>A padding-only mask (encoder self-attention, cross-attention): hidden keys get finfo.min.</summary>
    public static Tensor Padding(int batch, int queries, IntTensor keyMask)
    {
        ArgumentNullException.ThrowIfNull(keyMask);
        int keys = keyMask.Shape.Rank == 2 ? keyMask.Shape[1] : -1;
        Validate(batch, queries, keys, keyMask);
        var mask = Tensor.Zeros(new Shape(batch, 1, queries, keys));
        var m = mask.Span;
        var pad = keyMask.Span;
        for (int b = 0; b < batch; b++)
            for (int q = 0; q < queries; q++)
                for (int k = 0; k < keys; k++)
                    if (pad[b * keys + k] == 0) m[(b * queries + q) * keys + k] = MinValue;
        return mask;
    }

    private static void Validate(int batch, int queries, int keys, IntTensor? keyMask)
    {
        if (batch <= 0 || queries <= 0 || keys <= 0)
            throw new ArgumentException($"Attention mask needs positive sizes; got batch {batch}, queries {queries}, keys {keys}.");
        if (keyMask is null) return;
        if (keyMask.Shape.Rank != 2 || keyMask.Shape[0] != batch || keyMask.Shape[1] != keys)
            throw new ArgumentException($"attention_mask {keyMask.Shape} must be [batch {batch}, keys {keys}] (keys = prefix + cached + new positions).");
        foreach (int v in keyMask.Span)
            if (v is not (0 or 1)) throw new ArgumentException($"attention_mask values must be 0 or 1; found {v}.");
    }
}
