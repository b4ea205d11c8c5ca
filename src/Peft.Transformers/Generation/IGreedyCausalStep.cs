using Peft.Tensors;
using Peft.Transformers.Caching;

namespace Peft.Transformers.Generation;

/// <summary>
/// A step that can also give greedy decoding's next tokens without their logits, which lets the LM head compute only
/// the logits that can be the largest; the generator uses it when nothing else reads the logits (greedy, no
/// repetition penalty, no scores kept).
/// </summary>
public interface IGreedyCausalStep : ICausalStep
{
    /// <summary>
    /// For the same arguments as <see cref="ICausalStep.Logits"/>, the first maximum of each row's last-position logits
    /// (<see cref="FirstMaximum.IndexOf"/>), exactly the token greedy selection would pick from them.
    /// </summary>
    int[] GreedyNextTokens(IntTensor newIds, IntTensor attentionMask, Cache? cache);
}
