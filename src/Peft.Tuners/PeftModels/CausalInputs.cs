using Peft.Tensors;
using Peft.Transformers.Masking;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// What a decoder-only base is fed with the adapters' inputs, built in this one place for the
/// forward pass, the loss and every generation step: exactly one of ids and embeddings (virtual
/// tokens enter through the embeddings), the mask over every key (prefix ones, virtual ones where
/// the placement puts them, the real tokens' mask), positions, and token labels extended with
/// -100 for virtual positions.
/// </summary>
internal readonly record struct CausalInputs(IntTensor? InputIds, Tensor? Embeddings, IntTensor? Mask, IntTensor? Positions, IntTensor? Labels)
{
    /// <summary>Builds the inputs.</summary>
    /// <param name="model">The base (its embedding table).</param>
    /// <param name="adapters">What the adapters add.</param>
    /// <param name="inputIds">[batch, fed] real ids.</param>
    /// <param name="realMask">[batch, real tokens so far] (ending with the fed ones), or null for all ones.</param>
    /// <param name="tokenLabels">[batch, fed] causal labels, or null (class labels never pass here).</param>
    /// <param name="feedVirtualTokens">False once the virtual tokens sit in a cache: only their mask columns remain.</param>
    /// <param name="generation">
    /// Generation feeds a bare base positions counted from the mask (HF's <c>generate()</c>); a
    /// forward pass counts them 0, 1, … (HF's <c>forward()</c> without position ids).
    /// </param>
    public static CausalInputs Prepare(ILanguageModel model, AdapterInputs adapters, IntTensor inputIds, IntTensor? realMask, IntTensor? tokenLabels,
        bool feedVirtualTokens, bool generation)
    {
        int batch = inputIds.Shape[0], fed = inputIds.Shape[1];
        int realColumns = realMask?.Shape[1] ?? fed;
        Tensor? embeddings = null;
        var mask = realMask;
        var labels = tokenLabels;
        if (adapters.VirtualTokens is { } virtualTokens)
        {
            if (feedVirtualTokens)
                (embeddings, mask, labels) = VirtualTokenInputs.Insert(virtualTokens, model.Embed(inputIds), realMask, tokenLabels, adapters.Placement);
            else
                mask = VirtualTokenInputs.WithVirtualColumns(realMask, batch, realColumns, adapters.VirtualTokenCount, adapters.Placement);
        }
        int fedColumns = embeddings?.Shape[1] ?? fed;
        if (adapters.Prefix is { } prefix)
            mask = AttentionMasks.WithLeadingOnes(mask, batch, mask?.Shape[1] ?? realColumns, prefix.Length);
        // HF PEFT counts positions over every column; next to the input they skip each row's
        // padding; a bare base in generation counts them from the mask as generate() does.
        bool fromMask = adapters.AddsPositions ? adapters.Placement == VirtualTokenPlacement.NextToInput : generation;
        var positions = fromMask ? PositionIds.FromAttentionMask(mask ?? AttentionMasks.WithLeadingOnes(null, batch, fedColumns, 0), fedColumns) : null;
        return new CausalInputs(embeddings is null ? inputIds : null, embeddings, mask, positions, labels);
    }
}
