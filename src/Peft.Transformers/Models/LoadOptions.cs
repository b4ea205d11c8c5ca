namespace Peft.Transformers.Models;

/// <summary>Options for loading a model from a Hugging Face folder.</summary>
public sealed record LoadOptions
{
    /// <summary>
    /// Accept checkpoint tensors the model does not use (Hugging Face's default). When false an
    /// unexpected tensor is an error naming it. Known non-parameter buffers (GPT-2's attn.bias
    /// masks, rotary inv_freq) are always ignored.
    /// </summary>
    public bool AllowUnexpectedKeys { get; init; }
}
