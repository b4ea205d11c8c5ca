namespace Peft.Benchmarks;

/// <summary>A GEMM problem size: C[M,N] = A[M,K]·B[K,N]. Prints compactly in benchmark tables.</summary>
public readonly record struct GemmShape(int M, int K, int N)
{
    /// <inheritdoc />
    public override string ToString() => $"M{M} K{K} N{N}";
}
