using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// What the applied adapters add to a batch's inputs: stacked virtual tokens ([count, hidden], or
/// [batch, count, hidden] when rows differ), the stacked prefixes of the (decoder's) self-attention,
/// of an encoder's self-attention and of cross-attention, and where virtual tokens go.
/// </summary>
internal sealed record AdapterInputs(Tensor? VirtualTokens, PrefixKeyValues? Prefix, PrefixKeyValues? EncoderPrefix, PrefixKeyValues? CrossAttentionPrefix,
    VirtualTokenPlacement Placement)
{
    /// <summary>Virtual tokens per row (0 without any).</summary>
    public int VirtualTokenCount => VirtualTokens is null ? 0 : VirtualTokens.Shape[VirtualTokens.Rank - 2];

    /// <summary>Whether the adapters add anything in front of the input (virtual tokens or a prefix).</summary>
    public bool AddsPositions => VirtualTokens is not null || Prefix is not null;

    /// <summary>The same inputs kept past the current tensor scope (generation computes them once and reuses them every step).</summary>
    public AdapterInputs Kept() =>
        new(VirtualTokens is null ? null : TensorScope.Keep(VirtualTokens), Keep(Prefix), Keep(EncoderPrefix), Keep(CrossAttentionPrefix), Placement);

    private static PrefixKeyValues? Keep(PrefixKeyValues? prefix) => prefix is null ? null
        : new PrefixKeyValues(Enumerable.Range(0, prefix.Layout.Layers).Select(i =>
            (TensorScope.Keep(prefix.Source(i).Keys), TensorScope.Keep(prefix.Source(i).Values))).ToArray(), prefix.Layout.BatchSize);
}
