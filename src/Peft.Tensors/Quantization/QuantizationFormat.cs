namespace Peft.Tensors.Quantization;

/// <summary>How a frozen base weight is stored.</summary>
public enum QuantizationFormat
{
    /// <summary>Not quantized: float32.</summary>
    None = 0,

    /// <summary>int8 with one absmax scale per output channel (row).</summary>
    Int8,

    /// <summary>4-bit NormalFloat (QLoRA) with one absmax scale per block of 64 values.</summary>
    Nf4,

    /// <summary>
    /// bfloat16 (the upper 16 bits of a float32): not quantized but 16-bit, so products widen it exactly and only summation
    /// order differs from float32. Values read from a BF16 checkpoint are kept bit for bit.
    /// </summary>
    BFloat16,

    /// <summary>IEEE 754 half precision (F16), kept bit for bit from an F16 checkpoint; widened exactly for products.</summary>
    Float16,
}
