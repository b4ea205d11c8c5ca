using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Masking;
using Peft.Transformers.Models;

namespace Peft.Transformers.Generation;

/// <summary>
/// The step of a bare decoder-only model, as HF's <c>generate()</c> feeds it: positions
/// cumsum(mask) − 1 over the real tokens (left padding at 1), the mask covering every key.
/// </summary>
public sealed class ModelStep : IGreedyCausalStep
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates the step for <paramref name="model"/>.</summary>
    public ModelStep(CausalLanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <inheritdoc/>
    public int VirtualPositions => 0;

    /// <inheritdoc/>
    public Tensor Logits(IntTensor newIds, IntTensor attentionMask, Cache? cache)
    {
        ArgumentNullException.ThrowIfNull(newIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        var positions = PositionIds.FromAttentionMask(attentionMask, newIds.Shape[1]);
        return _model.Forward(inputIds: newIds, attentionMask: attentionMask, positionIds: positions, cache: cache, logitsToKeep: 1).Logits;
    }

    /// <inheritdoc/>
    public int[] GreedyNextTokens(IntTensor newIds, IntTensor attentionMask, Cache? cache)
    {
        ArgumentNullException.ThrowIfNull(newIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        var positions = PositionIds.FromAttentionMask(attentionMask, newIds.Shape[1]);
        return _model.GreedyNextTokens(inputIds: newIds, attentionMask: attentionMask, positionIds: positions, cache: cache);
    }
}
