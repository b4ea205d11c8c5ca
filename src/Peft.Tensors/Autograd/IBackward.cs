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
}
