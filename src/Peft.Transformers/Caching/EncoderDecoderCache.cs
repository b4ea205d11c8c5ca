namespace Peft.Transformers.Caching;

/// <summary>
/// The caches of an encoder-decoder model: the decoder's self-attention cache, which grows each
/// step, and the cross-attention keys/values computed once from the encoder output.
/// </summary>
public sealed class EncoderDecoderCache
{
    /// <summary>Pairs a self-attention cache with a cross-attention cache.</summary>
    public EncoderDecoderCache(Cache selfAttention, Cache crossAttention)
    {
        ArgumentNullException.ThrowIfNull(selfAttention);
        ArgumentNullException.ThrowIfNull(crossAttention);
        if (selfAttention.Layout.Layers != crossAttention.Layout.Layers || selfAttention.Layout.BatchSize != crossAttention.Layout.BatchSize)
            throw new ArgumentException(
                $"Self-attention cache {selfAttention.Layout} and cross-attention cache {crossAttention.Layout} must have the same layers and batch size.");
        SelfAttention = selfAttention;
        CrossAttention = crossAttention;
    }

    /// <summary>Decoder self-attention keys/values (prefix included).</summary>
    public Cache SelfAttention { get; }

    /// <summary>Cross-attention keys/values over the encoder output; filled on the first decoder step.</summary>
    public Cache CrossAttention { get; }

    /// <summary>True once the cross-attention keys/values have been computed.</summary>
    public bool IsCrossAttentionFilled => CrossAttention.Length > 0;

    /// <summary>Reorders both caches' batch rows (beam search).</summary>
    public void Reorder(ReadOnlySpan<int> batchIndices)
    {
        SelfAttention.Reorder(batchIndices);
        CrossAttention.Reorder(batchIndices);
    }
}
