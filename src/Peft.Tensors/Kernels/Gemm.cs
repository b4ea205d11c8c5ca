using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply: C = alpha · op(A) · op(B) + beta · C, row-major, where
/// op(X) is X or Xᵀ. When beta is 0, C is written without being read (it may hold garbage).
/// Dispatches to a packed, blocked kernel for the widest SIMD the CPU has, or to a streaming
/// kernel for products of a few rows (generation).
/// </summary>
public static class Gemm
{
    /// <summary>The instruction set chosen for this CPU.</summary>
    public static GemmIsa DetectedIsa { get; } =
        Avx512F.IsSupported ? GemmIsa.Avx512 : Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2 : GemmIsa.Portable;

    /// <summary>For tests and benchmarks: run a given kernel family instead of the detected one (null = detected).</summary>
    internal static GemmIsa? ForcedIsa { get; set; }

    /// <summary>The kernel family in use.</summary>
    public static GemmIsa ActiveIsa => ForcedIsa is { } forced && forced <= DetectedIsa ? forced : DetectedIsa;

    /// <summary>Multiplies row-major matrices with leading dimensions (row strides) lda, ldb, ldc.</summary>
    /// <param name="transA">Use Aᵀ: A is stored K×M.</param>
    /// <param name="transB">Use Bᵀ: B is stored N×K.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of C's previous contents (0 = overwrite).</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <exception cref="ArgumentException">A dimension is negative or a span is too short for its dimensions and stride.</exception>
    public static unsafe void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Gemm: dimensions must be non-negative; got m={m}, n={n}, k={k}.");
        if (m == 0 || n == 0) return;
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        fixed (float* ap = a)
        fixed (float* bp = b)
        fixed (float* cp = c)
        {
            if (k == 0)
            {
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) cp[(long)i * ldc + j] = beta == 0f ? 0f : beta * cp[(long)i * ldc + j];
                return;
            }
            if (m <= GemmSmallM.MaxRows && !transA) GemmSmallM.Multiply(transB, m, n, k, alpha, ap, lda, bp, ldb, beta, cp, ldc);
            else GemmBlocked.Multiply(ActiveIsa, transA, transB, m, n, k, alpha, ap, lda, bp, ldb, beta, cp, ldc);
        }
    }

    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"Gemm: leading dimension of {name} is {ld}, less than its {cols} stored columns.");
        long needed = (long)(rows - 1) * ld + cols;
        if (length < needed) throw new ArgumentException($"Gemm: {name} has {length} elements; a {rows}×{cols} matrix with row stride {ld} needs {needed}.");
    }
}
