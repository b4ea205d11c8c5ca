using Peft.Tensors;

namespace Peft.Transformers.Masking;

/// <summary>Position ids as Hugging Face derives them.</summary>
public static class PositionIds
{
    /// <summary>[batch, length] filled with start, start+1, … (forward() without position ids).</summary>
    public static IntTensor Range(int batch, int start, int length)
    {
        if (batch <= 0 || length < 0 || start < 0)
            throw new ArgumentException($"Position range needs batch > 0, start >= 0 and length >= 0; got {batch}, {start}, {length}.");
        var ids = IntTensor.Zeros(new Shape(batch, length));
        var s = ids.Span;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++) s[b * length + t] = start + t;
        return ids;
    }

    /// <summary>
    /// generate()'s prompt positions: cumsum(mask) − 1 per row, with padded positions set to 1,
    /// for the last <paramref name="length"/> columns of <paramref name="attentionMask"/> [batch, total].
    /// </summary>
    public static IntTensor FromAttentionMask(IntTensor attentionMask, int length)
    {
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (attentionMask.Shape.Rank != 2)
            throw new ArgumentException($"attention_mask must be [batch, length]; got {attentionMask.Shape}.", nameof(attentionMask));
        int batch = attentionMask.Shape[0], total = attentionMask.Shape[1];
        if (length < 0 || length > total)
            throw new ArgumentOutOfRangeException(nameof(length), $"Length {length} must be within the mask's {total} columns.");
        var ids = IntTensor.Zeros(new Shape(batch, length));
        var s = ids.Span;
        var m = attentionMask.Span;
        for (int b = 0; b < batch; b++)
        {
            int cumulative = 0;
            for (int t = 0; t < total; t++)
            {
                cumulative += m[b * total + t];
                int col = t - (total - length);
                if (col >= 0) s[b * length + col] = m[b * total + t] == 0 ? 1 : cumulative - 1;
            }
        }
        return ids;
    }
}
