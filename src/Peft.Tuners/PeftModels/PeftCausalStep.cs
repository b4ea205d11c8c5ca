using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// A generation step of a decoder-only base with adapters: the inputs come from
/// <see cref="CausalInputs.Prepare"/>, as in training; virtual tokens are fed while the cache is
/// empty (every step without a cache) and after that only their mask columns remain; a prefix is
/// written into the cache once by the model's cache precedence.
/// </summary>
internal sealed class PeftCausalStep(CausalLanguageModel model, AdapterInputs adapters) : IGreedyCausalStep
{
    /// <inheritdoc/>
    public int VirtualPositions => adapters.VirtualTokenCount + (adapters.Prefix?.Length ?? 0);

    /// <inheritdoc/>
    public Tensor Logits(IntTensor newIds, IntTensor attentionMask, Cache? cache)
    {
        var x = Inputs(newIds, attentionMask, cache);
        return model.Forward(inputIds: x.InputIds, inputEmbeddings: x.Embeddings, attentionMask: x.Mask, positionIds: x.Positions, cache: cache,
            prefix: adapters.Prefix, logitsToKeep: 1).Logits;
    }

    /// <inheritdoc/>
    public int[] GreedyNextTokens(IntTensor newIds, IntTensor attentionMask, Cache? cache)
    {
        var x = Inputs(newIds, attentionMask, cache);
        return model.GreedyNextTokens(inputIds: x.InputIds, inputEmbeddings: x.Embeddings, attentionMask: x.Mask, positionIds: x.Positions, cache: cache,
            prefix: adapters.Prefix);
    }

    private CausalInputs Inputs(IntTensor newIds, IntTensor attentionMask, Cache? cache)
    {
        bool feedVirtual = cache is null || cache.Length == 0;
        return CausalInputs.Prepare(model, adapters, newIds, attentionMask, null, feedVirtual, generation: true);
    }
}
