namespace Peft.Transformers.Loading;

/// <summary>How a parameter is laid out in Hugging Face checkpoints relative to how it is held here.</summary>
public enum StoredLayout
{
    /// <summary>Same shape and order.</summary>
    AsIs,

    /// <summary>
    /// A GPT-2 <c>Conv1D</c> weight: stored [in, out] in the checkpoint, held [out, in] here so
    /// every linear layer has PyTorch's nn.Linear layout. Transposed on load and save.
    /// </summary>
    TransposedConv1D,
}
