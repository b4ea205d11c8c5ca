namespace Peft.Tensors.Kernels;

/// <summary>The SIMD instruction sets the matrix kernels are written for.</summary>
public enum GemmIsa
{
    /// <summary>Vector128 / scalar code that runs anywhere (ARM included).</summary>
    Portable,

    /// <summary>AVX2 + FMA with 256-bit vectors.</summary>
    Avx2,

    /// <summary>AVX-512F with 512-bit vectors.</summary>
    Avx512,
}
