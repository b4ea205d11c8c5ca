namespace Peft.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply: C = alpha · op(A) · op(B) + beta · C, row-major, where
/// op(X) is X or Xᵀ. When beta is 0, C is written without being read (it may hold garbage).
/// </summary>
public static class Gemm
{
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
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        // Placeholder reference loop; replaced by the packed SIMD kernel.
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }
                ref float cv = ref c[i * ldc + j];
                cv = beta == 0 ? alpha * sum : alpha * sum + beta * cv;
            }
        }
    }
}
