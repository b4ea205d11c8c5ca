using Peft.Transformers.Caching;

namespace Peft.Tuners.Adapters;

/// <summary>An adapter that puts trainable key/value rows in front of every self-attention (prefix tuning).</summary>
public interface IPrefixAdapter : IPeftAdapter
{
    /// <summary>Virtual positions per layer.</summary>
    int NumVirtualTokens { get; }

    /// <summary>The per-layer prefix for a batch (differentiable, every row the same).</summary>
    PrefixKeyValues Prefix(int batch);
}
