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
}
