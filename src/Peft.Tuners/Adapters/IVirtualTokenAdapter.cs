using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>An adapter that puts trainable virtual-token embeddings in front of the input (prompt tuning, P-tuning, multitask prompt tuning).</summary>
public interface IVirtualTokenAdapter : IPeftAdapter
{
    /// <summary>Virtual tokens per row.</summary>
    int NumVirtualTokens { get; }

    /// <summary>True when each row needs a task id.</summary>
    bool NeedsTaskIds { get; }

    /// <summary>
    /// The virtual tokens, differentiable: [count, hidden] when every row gets the same, or
    /// [batch, count, hidden] when they depend on <paramref name="taskIds"/> ([batch]).
    /// </summary>
    Tensor VirtualTokens(int batch, IntTensor? taskIds);
}
