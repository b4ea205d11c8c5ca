using Peft.Tensors;
using Peft.Tensors.Kernels;
using Peft.Transformers.Loading;

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

    /// <summary>Values in this library's layout (as <see cref="Tensor"/> holds them) converted to the checkpoint layout.</summary>
    /// <exception cref="ArgumentException">The length does not match the parameter.</exception>
    public float[] ToStored(ReadOnlySpan<float> values)
    {
        CheckLength(values.Length, nameof(values));
        var stored = new float[values.Length];
        if (Layout == StoredLayout.TransposedConv1D) MatrixTranspose.Transpose(values, Tensor.Shape[0], Tensor.Shape[1], stored);
        else values.CopyTo(stored);
        return stored;
    }

    /// <summary>Checkpoint-layout values converted into <paramref name="destination"/> in this library's layout.</summary>
    /// <exception cref="ArgumentException">A length does not match the parameter.</exception>
    public void FromStored(ReadOnlySpan<float> stored, Span<float> destination)
    {
        CheckLength(stored.Length, nameof(stored));
        CheckLength(destination.Length, nameof(destination));
        if (Layout == StoredLayout.TransposedConv1D) MatrixTranspose.Transpose(stored, StoredShape[0], StoredShape[1], destination);
        else stored.CopyTo(destination);
    }

    private void CheckLength(int length, string name)
    {
        if (length != Tensor.Length)
            throw new ArgumentException($"Parameter '{Name}' has {Tensor.Length} values {Tensor.Shape}; got {length}.", name);
    }
}
