using Peft.Tensors.Quantization;

namespace Peft.Transformers.Loading;

/// <summary>Options for loading a model from a Hugging Face folder.</summary>
public sealed record LoadOptions
{
    /// <summary>
    /// Accept checkpoint tensors the model does not use (Hugging Face's default). When false an
    /// unexpected tensor is an error naming it. Known non-parameter buffers (GPT-2's attn.bias
    /// masks, rotary inv_freq) are always ignored.
    /// </summary>
    public bool AllowUnexpectedKeys { get; init; }

    /// <summary>
    /// Quantize the linear layers of the transformer blocks on load (the base model is frozen).
    /// Embeddings, the LM head and norms stay float. A folder saved quantized loads quantized
    /// whatever this says. <see cref="QuantizationFormat.BFloat16"/> and <see cref="QuantizationFormat.Float16"/>
    /// keep those weights 16-bit in memory instead (half of float32): a checkpoint already in that dtype keeps its bits,
    /// F32 (or the other 16-bit dtype) is rounded to nearest even; products widen them exactly to float32. Biases,
    /// embeddings, norms and the LM head stay float32 (a 16-bit checkpoint's head is also copied 16-bit for its product, see
    /// <see cref="QuantizeLmHead"/>). Saving such a model writes those weights as plain BF16/F16 tensors.
    /// </summary>
    public QuantizationFormat Quantization { get; init; }

    /// <summary>With <see cref="QuantizationFormat.Nf4"/>: store block scales as int8 too (QLoRA's double quantization).</summary>
    public bool DoubleQuantization { get; init; }

    /// <summary>
    /// Module names kept float, matched against the end of each linear layer's name on a dot
    /// boundary (<c>c_proj</c> matches <c>h.0.mlp.c_proj</c>; a full name matches itself).
    /// </summary>
    public IReadOnlyCollection<string> QuantizationExcludedModules { get; init; } = [];

    /// <summary>
    /// With <see cref="Quantization"/>: also multiply by a quantized copy of the LM head (decoder-only
    /// models). The float head (tied to the embeddings in GPT-2) stays for token lookups and the
    /// chunked loss; the copy makes decoding read a quarter (int8) of the head's bytes per token, at
    /// the price of approximate logits, or half (BFloat16/Float16: exact when the checkpoint's head is
    /// already in that dtype). The copy is not stored, only that there was one.
    /// <para>
    /// Null (the default) means: a copy when <see cref="Quantization"/> is <see cref="QuantizationFormat.Int8"/>; with
    /// <see cref="QuantizationFormat.BFloat16"/> or <see cref="QuantizationFormat.Float16"/> a copy when every head value is
    /// exactly that format's (a 16-bit checkpoint's head), so the logits do not change; float with NF4; a folder saved
    /// quantized gets the head it was saved with (config.json's quantization_config.quantized_lm_head), so save -> load
    /// keeps the logits.
    /// An int8 base decodes about 3x faster with an int8 head, because the head is the largest product of a
    /// decode step, and that is what int8 models elsewhere do (llama.cpp's Q8_0, ONNX Runtime's dynamic
    /// quantization). Each logit is then off by at most
    /// (‖x‖₁·max|wₙ| + ‖wₙ‖₁·max|x|) / 254 + K·max|x|·max|wₙ| / 64516 (x the final hidden state, wₙ the head row, K its
    /// length: weights and activations are rounded per row to absmax / 127), plus float rounding. NF4 keeps the float
    /// head (as QLoRA does: 4-bit logits are too coarse). An exact 16-bit copy gives the float head's logits up to the
    /// float32 summation order, and decoding reads half the head's bytes (a memory-bound batch-1 step: gpt2-small's BF16
    /// head is 77 MB of its 248); its 2 bytes per weight replace the packed float32 copy the GEMM would keep. True rounds
    /// an F32 head too (relative error at most 2⁻⁹ for BF16, 2⁻¹¹ for F16 in its normal range). Set false for Hugging
    /// Face's bitsandbytes behaviour (lm_head never quantized).
    /// </para>
    /// </summary>
    public bool? QuantizeLmHead { get; init; }
}
