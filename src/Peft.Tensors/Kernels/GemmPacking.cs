using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the sliver layouts the micro-kernels stream through
/// contiguously. Packing absorbs the transpose flags (and alpha, folded into A), so the kernels
/// see one layout only; rows/columns past the matrix edge are zero-filled.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs rows [i0, i0+mc) × depth [p0, p0+kc) of alpha·op(A) into MR-row slivers, each kc
    /// steps of MR floats, back to back.
    /// </summary>
    public static void PackA(int mr, bool transA, float* a, nint lda, int i0, int mc, int p0, int kc, float alpha, float* dst)
    {
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            float* d = dst + (nint)s * kc;
            if (transA)
            {
                // op(A)[i, p] = A[p, i]: each step copies `rows` contiguous floats.
                float* src = a + (nint)p0 * lda + i0 + s;
                for (int p = 0; p < kc; p++, src += lda, d += mr)
                {
                    int r = 0;
                    if (alpha == 1f)
                        for (; r < rows; r++) d[r] = src[r];
                    else
                        for (; r < rows; r++) d[r] = alpha * src[r];
                    for (; r < mr; r++) d[r] = 0f;
                }
            }
            else
            {
                // Row-major A: read each row sequentially and scatter with stride MR (stays in L1).
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (nint)(i0 + s + r) * lda + p0;
                    float* dr = d + r;
                    if (alpha == 1f)
                        for (int p = 0; p < kc; p++) dr[(nint)p * mr] = src[p];
                    else
                        for (int p = 0; p < kc; p++) dr[(nint)p * mr] = alpha * src[p];
                }
                for (int r = rows; r < mr; r++)
                    for (int p = 0; p < kc; p++) d[(nint)p * mr + r] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into NR-column slivers of kc steps
    /// each, sliver s starting at <paramref name="dst"/> + s·<paramref name="sliverStride"/>.
    /// </summary>
    public static void PackB(int nr, bool transB, float* b, nint ldb, int p0, int kc, int j0, int nc, float* dst, nint sliverStride)
    {
        for (int s = 0, js = 0; js < nc; s++, js += nr)
        {
            int cols = Math.Min(nr, nc - js);
            float* d = dst + s * sliverStride;
            if (transB)
            {
                // op(B)[p, j] = B[j, p]: read each stored row sequentially, scatter with stride NR.
                for (int c = 0; c < cols; c++)
                {
                    float* src = b + (nint)(j0 + js + c) * ldb + p0;
                    float* dc = d + c;
                    for (int p = 0; p < kc; p++) dc[(nint)p * nr] = src[p];
                }
                for (int c = cols; c < nr; c++)
                    for (int p = 0; p < kc; p++) d[(nint)p * nr + c] = 0f;
            }
            else
            {
                float* src = b + (nint)p0 * ldb + j0 + js;
                if (cols == nr)
                {
                    for (int p = 0; p < kc; p++, src += ldb, d += nr) CopyFull(src, d, nr);
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb, d += nr)
                    {
                        int c = 0;
                        for (; c < cols; c++) d[c] = src[c];
                        for (; c < nr; c++) d[c] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Copies <paramref name="count"/> floats (a multiple of 8) with the widest vectors available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFull(float* src, float* dst, int count)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; c + 16 <= count; c += 16) Vector512.Store(Vector512.Load(src + c), dst + c);
        if (Vector256.IsHardwareAccelerated)
            for (; c + 8 <= count; c += 8) Vector256.Store(Vector256.Load(src + c), dst + c);
        for (; c + 4 <= count; c += 4) Vector128.Store(Vector128.Load(src + c), dst + c);
        for (; c < count; c++) dst[c] = src[c];
    }
}
