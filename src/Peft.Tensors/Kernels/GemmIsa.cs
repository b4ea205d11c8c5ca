namespace Peft.Tensors.Kernels;

/// <summary>Instruction set a GEMM micro-kernel is written for.</summary>
internal enum GemmIsa
{
    /// <summary>Pick the best the CPU supports.</summary>
    Auto = 0,

    /// <summary>Vector128 multiply-add: runs everywhere, ARM included.</summary>
    Portable,

    /// <summary>AVX2 + FMA with Vector256.</summary>
    Avx2,

    /// <summary>AVX-512F with Vector512.</summary>
    Avx512,
}
