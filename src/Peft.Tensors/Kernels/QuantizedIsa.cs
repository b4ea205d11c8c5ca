namespace Peft.Tensors.Kernels;

/// <summary>Which kernels multiply by a quantized weight.</summary>
internal enum QuantizedIsa
{
    /// <summary>The fastest the CPU supports.</summary>
    Auto = 0,

    /// <summary>
    /// Dequantize tiles of the weight into a small per-thread float buffer and multiply them with
    /// the float GEMM (which picks its own AVX-512, AVX2 or portable kernel). Runs everywhere;
    /// activations stay float.
    /// </summary>
    DequantizedTiles,

    /// <summary>
    /// Direct kernels: int8 × int8 dot products with AVX-VNNI (activations quantized per row), and
    /// an AVX-512 NF4 kernel that decodes blocks in registers for few rows.
    /// </summary>
    Vnni,
}
