namespace Peft.Tensors.Kernels;

/// <summary>Which loop structure computes a GEMM call.</summary>
internal enum GemmPath
{
    /// <summary>Packed, cache-blocked BLIS loops around a micro-kernel.</summary>
    Blocked,

    /// <summary>Few rows of A times k-major B (strided or pre-packed), streaming B once.</summary>
    SmallStrip,

    /// <summary>Few rows of A times Wᵀ with W stored [N, K]: dot products over contiguous rows.</summary>
    SmallDots,
}
