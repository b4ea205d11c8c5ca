using Peft.Tensors;
using Peft.Transformers.Caching;

namespace Peft.Transformers.Generation;

/// <summary>
/// One forward step of decoder-only generation: the logits for the token ids the cache does not
/// hold yet. The generator keeps the real tokens and their mask; whatever else goes in front of
/// or among them (prefix key/values, virtual tokens) is the step's business, so a caller that
/// adds inputs (PEFT adapters) builds them in one place for training and generation alike.
/// </summary>
public interface ICausalStep
{
    /// <summary>Key positions the step adds to the real tokens (prefix and virtual tokens); caches are sized with it.</summary>
    int VirtualPositions { get; }

    /// <summary>Runs the model on the new ids.</summary>
    /// <param name="newIds">[batch, fed]: the real ids the cache does not hold yet (every id without a cache).</param>
    /// <param name="attentionMask">[batch, real tokens so far] (1 = token, 0 = left padding): real tokens only, fed ones included.</param>
    /// <param name="cache">The cache to fill and attend over (empty on the first call), or null.</param>
    /// <returns>
    /// Logits [batch, positions, vocab] whose last position scores the next token; only that one is read, so a step
    /// scores just the last position (the ones here do).
    /// </returns>
    Tensor Logits(IntTensor newIds, IntTensor attentionMask, Cache? cache);
}
