namespace Peft.Tensors;

/// <summary>
/// The backward function of one operation kind. Implementations are stateless singletons: all
/// per-call data lives in the <see cref="TapeEntry"/>.
/// </summary>
internal interface IBackward
{
    /// <summary>
    /// Reads <c>entry.Output.Grad</c> and accumulates into the gradient of every input whose
    /// <see cref="Tensor.RequiresGrad"/> is set (use <see cref="Tape.GradOf"/>).
    /// </summary>
    void Backward(ref TapeEntry entry);

    /// <summary>
    /// Which of the entry's tensors <see cref="Backward"/> reads the values of (as opposed to only
    /// routing a gradient to them). Buffers no entry reads can go back to the pool as soon as their
    /// owner releases them (<see cref="TensorScope.Release"/>). Asked once, when the entry is recorded.
    /// </summary>
    TapeSlots Reads(in TapeEntry entry) => TapeSlots.All;
}
