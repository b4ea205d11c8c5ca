using Peft.Transformers.Caching;

namespace Peft.Tuners.Adapters;

/// <summary>An adapter that puts trainable key/value rows in front of every self-attention (prefix tuning).</summary>
public interface IPrefixAdapter : IPeftAdapter
{
    /// <summary>Virtual positions per layer.</summary>
    int NumVirtualTokens { get; }

    /// <summary>The per-layer prefix of the (decoder's) self-attention for a batch (differentiable, every row the same).</summary>
    PrefixKeyValues Prefix(int batch);

    /// <summary>An encoder-decoder model's encoder self-attention prefix, or null when the adapter has none.</summary>
    PrefixKeyValues? EncoderPrefix(int batch) => null;

    /// <summary>An encoder-decoder model's cross-attention prefix, or null when the adapter has none.</summary>
    PrefixKeyValues? CrossAttentionPrefix(int batch) => null;
}
