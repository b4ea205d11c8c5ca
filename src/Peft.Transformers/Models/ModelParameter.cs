using Peft.Tensors;

namespace Peft.Transformers.Models;

/// <summary>A named model parameter and how it is stored in Hugging Face checkpoints.</summary>
/// <param name="Name">The Hugging Face parameter name (e.g. <c>transformer.h.0.attn.c_attn.weight</c>).</param>
/// <param name="Tensor">The values, in this library's layout.</param>
/// <param name="Layout">The checkpoint layout.</param>
public sealed record ModelParameter(string Name, Tensor Tensor, StoredLayout Layout)
{
    /// <summary>The shape in the checkpoint.</summary>
    public int[] StoredShape => Layout == StoredLayout.TransposedConv1D
        ? [Tensor.Shape[1], Tensor.Shape[0]]
        : Tensor.Shape.ToArray();
}
