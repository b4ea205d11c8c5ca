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
    /// Direct kernels: int8 × int8 dot products (activations quantized per row; AVX-VNNI where
    /// present, else AVX-512BW or AVX2 widening multiply-adds, the same integers), and an AVX-512 NF4
    /// kernel that decodes blocks in registers for few rows (NF4 takes the tiles without AVX-512).
    /// </summary>
    Direct,
}
