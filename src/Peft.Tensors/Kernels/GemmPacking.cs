using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
                if (alpha == 1f && rows == mr && mr % 4 == 0)
                {
                    for (int p = 0; p < kc; p++, src += lda, d += mr) CopyFull(src, d, mr);
                    continue;
                }
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
                // Row-major A: a transpose of rows × kc into k-major steps of MR.
                Transpose(a + (nint)(i0 + s) * lda + p0, lda, rows, kc, d, mr, alpha);
                for (int r = rows; r < mr; r++)
                    for (int p = 0; p < kc; p++) d[(nint)p * mr + r] = 0f;
            }
        }
    }

    /// <summary>
    /// Rows ahead whose columns a row-major panel pack prefetches: each short row segment is a new stream the hardware
    /// prefetchers have not learnt yet (Zen 5, 256-column blocks: PackB 18 % of a 128 x 768 x 3072 product -> 12 %,
    /// +8-10 %; 3, 4 and 6 rows alike, 8 and 16 less).
    /// </summary>
    private const int PrefetchRowsAhead = 4;

    /// <summary>
    /// Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into NR-column slivers of kc steps
    /// each, sliver s starting at <paramref name="dst"/> + s·<paramref name="sliverStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(int nr, bool transB, float* b, nint ldb, int p0, int kc, int j0, int nc, float* dst, nint sliverStride)
    {
        if (!transB && nc >= 2 * nr && sliverStride != 0)
        {
            // Row by row across every full sliver: each B row is read once, front to back, which
            // the prefetchers follow (a sliver at a time hops one row stride per step instead).
            int full = nc / nr;
            float* src = b + (nint)p0 * ldb + j0;
            for (int p = 0; p < kc; p++, src += ldb)
            {
                if (Sse.IsSupported && p + PrefetchRowsAhead < kc)
                {
                    float* ahead = src + PrefetchRowsAhead * ldb;
                    for (int c = 0; c < full * nr; c += 16) Sse.Prefetch0(ahead + c); // one per 64-byte line
                }
                float* d = dst + (nint)p * nr;
                for (int s = 0; s < full; s++, d += sliverStride) CopyFull(src + s * nr, d, nr);
            }
            if (full * nr == nc) return;
            // The last, partial sliver (zero-padded) the usual way.
            PackB(nr, transB, b, ldb, p0, kc, j0 + full * nr, nc - full * nr, dst + full * sliverStride, sliverStride);
            return;
        }
        for (int s = 0, js = 0; js < nc; s++, js += nr)
        {
            int cols = Math.Min(nr, nc - js);
            float* d = dst + s * sliverStride;
            if (transB)
            {
                // op(B)[p, j] = B[j, p]: a transpose of cols × kc into k-major steps of NR.
                Transpose(b + (nint)(j0 + js) * ldb + p0, ldb, cols, kc, d, nr, 1f);
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

    /// <summary>Copies <paramref name="count"/> floats (a multiple of 4) with the widest vectors available.</summary>
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

    /// <summary>
    /// dst[p·ldd + r] = alpha·src[r·lds + p] for r &lt; rows, p &lt; depth. Works in 8×8 blocks so
    /// the reads stay sequential and the strided writes land in a few hot cache lines (a plain
    /// column-at-a-time scatter touches a new line per element and thrashes L1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose(float* src, nint lds, int rows, int depth, float* dst, nint ldd, float alpha)
    {
        int r0 = 0;
        if (Avx.IsSupported)
        {
            var scale = Vector256.Create(alpha);
            for (; r0 + 8 <= rows; r0 += 8)
            {
                float* s = src + r0 * lds;
                float* d = dst + r0;
                int p = 0;
                for (; p + 8 <= depth; p += 8) Transpose8x8(s + p, lds, d + p * ldd, ldd, scale, alpha != 1f);
                for (; p < depth; p++)
                    for (int r = 0; r < 8; r++) d[p * ldd + r] = alpha * s[r * lds + p];
            }
            // MR = 12 leaves four rows per A sliver: without this they took the scalar path below,
            // which cost as much as the eight vector rows.
            if (r0 + 4 <= rows)
            {
                float* s = src + r0 * lds;
                float* d = dst + r0;
                int p = 0;
                for (; p + 8 <= depth; p += 8) Transpose4x8(s + p, lds, d + p * ldd, ldd, scale, alpha != 1f);
                for (; p < depth; p++)
                    for (int r = 0; r < 4; r++) d[p * ldd + r] = alpha * s[r * lds + p];
                r0 += 4;
            }
        }
        for (; r0 < rows; r0 += 8)
        {
            int rs = Math.Min(8, rows - r0);
            for (int p0 = 0; p0 < depth; p0 += 8)
            {
                int pe = Math.Min(depth, p0 + 8);
                for (int r = r0; r < r0 + rs; r++)
                {
                    float* s = src + r * lds;
                    for (int p = p0; p < pe; p++) dst[p * ldd + r] = alpha * s[p];
                }
            }
        }
    }

    /// <summary>Transposes a 4-row × 8-column block into eight 4-float steps (AVX unpack/shuffle).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x8(float* s, nint lds, float* d, nint ldd, Vector256<float> scale, bool doScale)
    {
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + lds);
        var r2 = Avx.LoadVector256(s + 2 * lds);
        var r3 = Avx.LoadVector256(s + 3 * lds);
        if (doScale)
        {
            r0 *= scale; r1 *= scale; r2 *= scale; r3 *= scale;
        }
        var t0 = Avx.UnpackLow(r0, r1);   // a0 b0 a1 b1 | a4 b4 a5 b5
        var t1 = Avx.UnpackHigh(r0, r1);  // a2 b2 a3 b3 | a6 b6 a7 b7
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var u0 = Avx.Shuffle(t0, t2, 0x44); // column 0 | column 4
        var u1 = Avx.Shuffle(t0, t2, 0xEE); // column 1 | column 5
        var u2 = Avx.Shuffle(t1, t3, 0x44); // column 2 | column 6
        var u3 = Avx.Shuffle(t1, t3, 0xEE); // column 3 | column 7
        Sse.Store(d, u0.GetLower());
        Sse.Store(d + ldd, u1.GetLower());
        Sse.Store(d + 2 * ldd, u2.GetLower());
        Sse.Store(d + 3 * ldd, u3.GetLower());
        Sse.Store(d + 4 * ldd, u0.GetUpper());
        Sse.Store(d + 5 * ldd, u1.GetUpper());
        Sse.Store(d + 6 * ldd, u2.GetUpper());
        Sse.Store(d + 7 * ldd, u3.GetUpper());
    }

    /// <summary>Transposes one 8×8 block with AVX unpack/shuffle/permute (24 shuffles for 64 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, nint lds, float* d, nint ldd, Vector256<float> scale, bool doScale)
    {
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + lds);
        var r2 = Avx.LoadVector256(s + 2 * lds);
        var r3 = Avx.LoadVector256(s + 3 * lds);
        var r4 = Avx.LoadVector256(s + 4 * lds);
        var r5 = Avx.LoadVector256(s + 5 * lds);
        var r6 = Avx.LoadVector256(s + 6 * lds);
        var r7 = Avx.LoadVector256(s + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        var o0 = Avx.Permute2x128(u0, u4, 0x20);
        var o1 = Avx.Permute2x128(u1, u5, 0x20);
        var o2 = Avx.Permute2x128(u2, u6, 0x20);
        var o3 = Avx.Permute2x128(u3, u7, 0x20);
        var o4 = Avx.Permute2x128(u0, u4, 0x31);
        var o5 = Avx.Permute2x128(u1, u5, 0x31);
        var o6 = Avx.Permute2x128(u2, u6, 0x31);
        var o7 = Avx.Permute2x128(u3, u7, 0x31);
        if (doScale)
        {
            o0 *= scale; o1 *= scale; o2 *= scale; o3 *= scale;
            o4 *= scale; o5 *= scale; o6 *= scale; o7 *= scale;
        }
        Avx.Store(d, o0);
        Avx.Store(d + ldd, o1);
        Avx.Store(d + 2 * ldd, o2);
        Avx.Store(d + 3 * ldd, o3);
        Avx.Store(d + 4 * ldd, o4);
        Avx.Store(d + 5 * ldd, o5);
        Avx.Store(d + 6 * ldd, o6);
        Avx.Store(d + 7 * ldd, o7);
    }
}
