using Peft.Tensors;

namespace Peft.Transformers.Models;

/// <summary>The shape checks every entry point taking token ids makes, with one wording for their messages.</summary>
public static class InputShapes
{
    /// <summary>Fails unless <paramref name="inputIds"/> is [batch, length] (length at least 1 when <paramref name="nonEmpty"/>).</summary>
    /// <param name="inputIds">The ids.</param>
    /// <param name="parameterName">The caller's parameter name, for the exception.</param>
    /// <param name="nonEmpty">Whether rows need at least one position.</param>
    /// <returns>Batch and length.</returns>
    /// <exception cref="ArgumentException">Another rank (or no positions).</exception>
    public static (int Batch, int Length) RequireTokenIds(IntTensor inputIds, string parameterName, bool nonEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(inputIds, parameterName);
        if (inputIds.Shape.Rank != 2 || (nonEmpty && inputIds.Shape[1] == 0))
            throw new ArgumentException($"input_ids must be [batch, length{(nonEmpty ? " >= 1" : "")}]; got {inputIds.Shape}.", parameterName);
        return (inputIds.Shape[0], inputIds.Shape[1]);
    }

    /// <summary>Fails unless <paramref name="tensor"/> (when given) has <paramref name="inputIds"/>' shape.</summary>
    /// <param name="tensor">An attention mask or labels, or null.</param>
    /// <param name="inputIds">The ids it goes with.</param>
    /// <param name="name">Its Hugging Face name (attention_mask, labels), for the message.</param>
    /// <param name="parameterName">The caller's parameter name, for the exception.</param>
    /// <param name="note">Said after the message, e.g. why the shapes must agree.</param>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static void RequireMatching(IntTensor? tensor, IntTensor inputIds, string name, string parameterName, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (tensor is not null && !tensor.Shape.Equals(inputIds.Shape))
            throw new ArgumentException($"{name} {tensor.Shape} must match input_ids {inputIds.Shape}{(note is null ? "" : " " + note)}.", parameterName);
    }
}
