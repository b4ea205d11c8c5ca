using Peft.Tensors;

namespace Peft.Transformers.Models;

/// <summary>A mean loss and how many targets it averaged over (what gradient accumulation weighs micro-batches by).</summary>
/// <param name="Loss">The mean cross-entropy, a scalar tensor (NaN-free only when <paramref name="Targets"/> is above 0).</param>
/// <param name="Targets">Target positions (tokens or rows) the mean ran over: labels other than -100, after any shift the loss applies.</param>
public sealed record TargetLoss(Tensor Loss, long Targets)
{
    /// <summary>Labels other than -100 in <paramref name="labels"/>: the targets of a loss that applies no shift.</summary>
    public static long CountTargets(IntTensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long count = 0;
        foreach (int label in labels.Span) if (label != -100) count++;
        return count;
    }
}
