using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// AVX-512 kernels for few rows of A (M = 1..8, token-by-token generation). A general GEMM packs
/// B and wastes most of its MR-row tiles here; these instead stream B exactly once, keeping all
/// M rows' accumulators in registers, so the speed is bounded by how fast B can be read.
/// </summary>
internal static unsafe class GemmSmallM
{
    /// <summary>Largest M these kernels handle (8 rows × 2 zmm = 16 accumulators).</summary>
    public const int MaxRows = 8;

    /// <summary>Columns per strip of the k-major kernel: two zmm (and one packed sliver of 32).</summary>
    public const int StripWidth = 32;

    /// <summary>Stored B rows (C columns) per group of the dot-product kernel.</summary>
    public const int DotGroup = 4;

    /// <summary>
    /// C[0..m, j..j + cols) of A·B for B packed by <see cref="PackedMatrix"/> for AVX-512 (32-column slivers of
    /// <paramref name="kc"/>-deep blocks, <paramref name="packedNPad"/> columns per block row): the one call
    /// of the small-row path for the sliver starting at column <paramref name="j"/> (a multiple of 32), whose every
    /// column's value depends only on that sliver and its row of A, so any subset of slivers gives the full product's floats.
    /// </summary>
    public static void PackedSliver(int m, int k, float* a, nint lda, float* packedB, int kc, int packedNPad, int j, int cols, float* c, nint ldc,
        float alpha, float beta)
    {
        Strip<Count1>(m, k, a, lda, packedB + (j / StripWidth) * (nint)kc * StripWidth, StripWidth, kc, (nint)kc * packedNPad, c, ldc, cols, alpha, beta);
    }

    /// <summary>
    /// C[0..m, 0..cols) for k-major B: element (p, j) at b + (p / blockK)·blockStride +
    /// (p % blockK)·kStride + j. Strided B uses one block; a packed matrix uses its block depth.
    /// <paramref name="cols"/> may be below 32 only when B has 32 readable (zero-padded) columns.
    /// </summary>
    public static void Strip(int m, int k, float* a, nint lda, float* b, nint kStride, int blockK, nint blockStride,
        float* c, nint ldc, int cols, float alpha, float beta) =>
        Strip<Count0>(m, k, a, lda, b, kStride, blockK, blockStride, c, ldc, cols, alpha, beta);

    /// <summary>
    /// Steps of B ahead that a packed sliver's loop prefetches (TPrefetch 1; 0 for a strided B, whose next rows belong
    /// to the next band). Each 32-column sliver block is a separate 48 KiB stream the hardware prefetcher must pick up
    /// anew, and with several rows of A each step's FMAs fill the core's window, so the loads alone kept too few misses
    /// in flight. Zen 5, 2 threads, 40 packed 768 x 3072 weights in turn (beyond L3), GB/s of weights, in one run:
    /// 8 rows 24-26 -> 48-50, 1 row 36-38 -> 46-49; at other times 8 rows 31 -> 55 (4 rows 38 -> 64, 2 rows 38 -> 51).
    /// 8 steps ahead gained half as much; 48-96 about the same as 32.
    /// </summary>
    private const int PrefetchSteps = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip<TPrefetch>(int m, int k, float* a, nint lda, float* b, nint kStride, int blockK, nint blockStride,
        float* c, nint ldc, int cols, float alpha, float beta) where TPrefetch : struct, IConstant
    {
        if (cols == StripWidth)
        {
            StripRows<TPrefetch>(m, k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta);
            return;
        }
        // A padded edge sliver: compute the full width into a tile, then keep the valid columns.
        float* tile = stackalloc float[MaxRows * StripWidth];
        StripRows<TPrefetch>(m, k, a, lda, b, kStride, blockK, blockStride, tile, StripWidth, alpha, 0f);
        GemmDriver<GemmMicroKernel512>.MergeTile(tile, StripWidth, c, ldc, m, cols, beta);
    }

    private static void StripRows<TPrefetch>(int m, int k, float* a, nint lda, float* b, nint kStride, int blockK, nint blockStride,
        float* c, nint ldc, float alpha, float beta) where TPrefetch : struct, IConstant
    {
        switch (m)
        {
            case 1: Strip<Count1, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 2: Strip<Count2, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 3: Strip<Count3, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 4: Strip<Count4, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 5: Strip<Count5, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 6: Strip<Count6, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 7: Strip<Count7, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            case 8: Strip<Count8, TPrefetch>(k, a, lda, b, kStride, blockK, blockStride, c, ldc, alpha, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(m), $"Small-M kernels take 1..{MaxRows} rows; got {m}.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip<TRows, TPrefetch>(int k, float* a, nint lda, float* b, nint kStride, int blockK, nint blockStride,
        float* c, nint ldc, float alpha, float beta) where TRows : struct, IConstant where TPrefetch : struct, IConstant
    {
        nint ahead = PrefetchSteps * kStride;
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default,
            c4a = default, c4b = default, c5a = default, c5b = default, c6a = default, c6b = default, c7a = default, c7b = default;
        Vector512<float> av;
        float* a1 = a + 1 * lda;
        float* a2 = a + 2 * lda;
        float* a3 = a + 3 * lda;
        float* a4 = a + 4 * lda;
        float* a5 = a + 5 * lda;
        float* a6 = a + 6 * lda;
        float* a7 = a + 7 * lda;
        for (int p0 = 0; p0 < k; p0 += blockK, b += blockStride)
        {
            int pEnd = Math.Min(k, p0 + blockK);
            float* bp = b;
            for (int p = p0; p < pEnd; p++, bp += kStride)
            {
                // Past a block's end this reaches the next sliver's block of the same depth, which this chunk reads soon.
                if (TPrefetch.Value == 1) { Sse.Prefetch0(bp + ahead); Sse.Prefetch0(bp + ahead + 16); }
                Vector512<float> b0 = Vector512.Load(bp);
                Vector512<float> b1 = Vector512.Load(bp + 16);
                { av = Vector512.Create(a[p]); c0a = Avx512F.FusedMultiplyAdd(av, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(av, b1, c0b); }
                if (TRows.Value > 1) { av = Vector512.Create(a1[p]); c1a = Avx512F.FusedMultiplyAdd(av, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(av, b1, c1b); }
                if (TRows.Value > 2) { av = Vector512.Create(a2[p]); c2a = Avx512F.FusedMultiplyAdd(av, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(av, b1, c2b); }
                if (TRows.Value > 3) { av = Vector512.Create(a3[p]); c3a = Avx512F.FusedMultiplyAdd(av, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(av, b1, c3b); }
                if (TRows.Value > 4) { av = Vector512.Create(a4[p]); c4a = Avx512F.FusedMultiplyAdd(av, b0, c4a); c4b = Avx512F.FusedMultiplyAdd(av, b1, c4b); }
                if (TRows.Value > 5) { av = Vector512.Create(a5[p]); c5a = Avx512F.FusedMultiplyAdd(av, b0, c5a); c5b = Avx512F.FusedMultiplyAdd(av, b1, c5b); }
                if (TRows.Value > 6) { av = Vector512.Create(a6[p]); c6a = Avx512F.FusedMultiplyAdd(av, b0, c6a); c6b = Avx512F.FusedMultiplyAdd(av, b1, c6b); }
                if (TRows.Value > 7) { av = Vector512.Create(a7[p]); c7a = Avx512F.FusedMultiplyAdd(av, b0, c7a); c7b = Avx512F.FusedMultiplyAdd(av, b1, c7b); }
            }
        }
        var alphaV = Vector512.Create(alpha);
        StoreRow(c0a, c0b, c + 0 * ldc, alphaV, beta);
        if (TRows.Value > 1) StoreRow(c1a, c1b, c + 1 * ldc, alphaV, beta);
        if (TRows.Value > 2) StoreRow(c2a, c2b, c + 2 * ldc, alphaV, beta);
        if (TRows.Value > 3) StoreRow(c3a, c3b, c + 3 * ldc, alphaV, beta);
        if (TRows.Value > 4) StoreRow(c4a, c4b, c + 4 * ldc, alphaV, beta);
        if (TRows.Value > 5) StoreRow(c5a, c5b, c + 5 * ldc, alphaV, beta);
        if (TRows.Value > 6) StoreRow(c6a, c6b, c + 6 * ldc, alphaV, beta);
        if (TRows.Value > 7) StoreRow(c7a, c7b, c + 7 * ldc, alphaV, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> lo, Vector512<float> hi, float* c, Vector512<float> alpha, float beta)
    {
        lo *= alpha;
        hi *= alpha;
        if (beta != 0f)
        {
            var bv = Vector512.Create(beta);
            lo = Avx512F.FusedMultiplyAdd(Vector512.Load(c), bv, lo);
            hi = Avx512F.FusedMultiplyAdd(Vector512.Load(c + 16), bv, hi);
        }
        Vector512.Store(lo, c);
        Vector512.Store(hi, c + 16);
    }

    /// <summary>
    /// C[0..m, 0..n) = alpha·A·Wᵀ + beta·C with W stored [n, k] row-major: n dot products of length k
    /// per row of A, computed for 4 rows of W at a time so each A vector load feeds 4 FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dots(int m, int n, int k, float* a, nint lda, float* w, nint ldw, float* c, nint ldc, float alpha, float beta)
    {
        for (int j = 0; j < n; j += DotGroup)
        {
            int group = Math.Min(DotGroup, n - j);
            for (int i = 0; i < m; i += 4)
            {
                int rows = Math.Min(4, m - i);
                float* ai = a + i * lda;
                float* wj = w + j * ldw;
                float* cij = c + i * ldc + j;
                if (group == DotGroup)
                {
                    switch (rows)
                    {
                        case 1: Dot<Count1, Count4>(k, ai, lda, wj, ldw, cij, ldc, alpha, beta); break;
                        case 2: Dot<Count2, Count4>(k, ai, lda, wj, ldw, cij, ldc, alpha, beta); break;
                        case 3: Dot<Count3, Count4>(k, ai, lda, wj, ldw, cij, ldc, alpha, beta); break;
                        default: Dot<Count4, Count4>(k, ai, lda, wj, ldw, cij, ldc, alpha, beta); break;
                    }
                }
                else
                {
                    for (int q = 0; q < group; q++)
                    {
                        switch (rows)
                        {
                            case 1: Dot<Count1, Count1>(k, ai, lda, wj + q * ldw, ldw, cij + q, ldc, alpha, beta); break;
                            case 2: Dot<Count2, Count1>(k, ai, lda, wj + q * ldw, ldw, cij + q, ldc, alpha, beta); break;
                            case 3: Dot<Count3, Count1>(k, ai, lda, wj + q * ldw, ldw, cij + q, ldc, alpha, beta); break;
                            default: Dot<Count4, Count1>(k, ai, lda, wj + q * ldw, ldw, cij + q, ldc, alpha, beta); break;
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TRows, TCols>(int k, float* a, nint lda, float* w, nint ldw, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant where TCols : struct, IConstant
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
            s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Vector512<float> x0, x1 = default, x2 = default, x3 = default, w0, w1 = default, w2 = default, w3 = default;
        int vecEnd = k & ~15;
        for (int p = 0; p < vecEnd; p += 16)
        {
            x0 = Vector512.Load(a + 0 * lda + p);
            if (TRows.Value > 1) x1 = Vector512.Load(a + 1 * lda + p);
            if (TRows.Value > 2) x2 = Vector512.Load(a + 2 * lda + p);
            if (TRows.Value > 3) x3 = Vector512.Load(a + 3 * lda + p);
            w0 = Vector512.Load(w + 0 * ldw + p);
            if (TCols.Value > 1) w1 = Vector512.Load(w + 1 * ldw + p);
            if (TCols.Value > 2) w2 = Vector512.Load(w + 2 * ldw + p);
            if (TCols.Value > 3) w3 = Vector512.Load(w + 3 * ldw + p);
            s00 = Avx512F.FusedMultiplyAdd(x0, w0, s00);
            if (TCols.Value > 1) s01 = Avx512F.FusedMultiplyAdd(x0, w1, s01);
            if (TCols.Value > 2) s02 = Avx512F.FusedMultiplyAdd(x0, w2, s02);
            if (TCols.Value > 3) s03 = Avx512F.FusedMultiplyAdd(x0, w3, s03);
            if (TRows.Value > 1) s10 = Avx512F.FusedMultiplyAdd(x1, w0, s10);
            if (TRows.Value > 1 && TCols.Value > 1) s11 = Avx512F.FusedMultiplyAdd(x1, w1, s11);
            if (TRows.Value > 1 && TCols.Value > 2) s12 = Avx512F.FusedMultiplyAdd(x1, w2, s12);
            if (TRows.Value > 1 && TCols.Value > 3) s13 = Avx512F.FusedMultiplyAdd(x1, w3, s13);
            if (TRows.Value > 2) s20 = Avx512F.FusedMultiplyAdd(x2, w0, s20);
            if (TRows.Value > 2 && TCols.Value > 1) s21 = Avx512F.FusedMultiplyAdd(x2, w1, s21);
            if (TRows.Value > 2 && TCols.Value > 2) s22 = Avx512F.FusedMultiplyAdd(x2, w2, s22);
            if (TRows.Value > 2 && TCols.Value > 3) s23 = Avx512F.FusedMultiplyAdd(x2, w3, s23);
            if (TRows.Value > 3) s30 = Avx512F.FusedMultiplyAdd(x3, w0, s30);
            if (TRows.Value > 3 && TCols.Value > 1) s31 = Avx512F.FusedMultiplyAdd(x3, w1, s31);
            if (TRows.Value > 3 && TCols.Value > 2) s32 = Avx512F.FusedMultiplyAdd(x3, w2, s32);
            if (TRows.Value > 3 && TCols.Value > 3) s33 = Avx512F.FusedMultiplyAdd(x3, w3, s33);
        }
        if (TCols.Value == 4)
        {
            // All sixteen horizontal sums at once (lane 4·row + column): a tree of in-lane unpacks,
            // shuffles and 128-bit lane swaps instead of sixteen separate reductions, which cost a
            // quarter of the kernel's time at K = 768.
            var sums = Lanes(
                Lanes(Quad(Pair(s00, s01), Pair(s02, s03)), Quad(Pair(s10, s11), Pair(s12, s13))),
                Lanes(Quad(Pair(s20, s21), Pair(s22, s23)), Quad(Pair(s30, s31), Pair(s32, s33))));
            StoreDots(Avx512F.ExtractVector128(sums, 0), a, w, ldw, vecEnd, k, c, alpha, beta);
            if (TRows.Value > 1) StoreDots(Avx512F.ExtractVector128(sums, 1), a + lda, w, ldw, vecEnd, k, c + ldc, alpha, beta);
            if (TRows.Value > 2) StoreDots(Avx512F.ExtractVector128(sums, 2), a + 2 * lda, w, ldw, vecEnd, k, c + 2 * ldc, alpha, beta);
            if (TRows.Value > 3) StoreDots(Avx512F.ExtractVector128(sums, 3), a + 3 * lda, w, ldw, vecEnd, k, c + 3 * ldc, alpha, beta);
            return;
        }
        StoreDot(s00, a + 0 * lda, w + 0 * ldw, vecEnd, k, c + 0 * ldc + 0, alpha, beta);
        if (TCols.Value > 1) StoreDot(s01, a + 0 * lda, w + 1 * ldw, vecEnd, k, c + 0 * ldc + 1, alpha, beta);
        if (TCols.Value > 2) StoreDot(s02, a + 0 * lda, w + 2 * ldw, vecEnd, k, c + 0 * ldc + 2, alpha, beta);
        if (TCols.Value > 3) StoreDot(s03, a + 0 * lda, w + 3 * ldw, vecEnd, k, c + 0 * ldc + 3, alpha, beta);
        if (TRows.Value > 1) StoreDot(s10, a + 1 * lda, w + 0 * ldw, vecEnd, k, c + 1 * ldc + 0, alpha, beta);
        if (TRows.Value > 1 && TCols.Value > 1) StoreDot(s11, a + 1 * lda, w + 1 * ldw, vecEnd, k, c + 1 * ldc + 1, alpha, beta);
        if (TRows.Value > 1 && TCols.Value > 2) StoreDot(s12, a + 1 * lda, w + 2 * ldw, vecEnd, k, c + 1 * ldc + 2, alpha, beta);
        if (TRows.Value > 1 && TCols.Value > 3) StoreDot(s13, a + 1 * lda, w + 3 * ldw, vecEnd, k, c + 1 * ldc + 3, alpha, beta);
        if (TRows.Value > 2) StoreDot(s20, a + 2 * lda, w + 0 * ldw, vecEnd, k, c + 2 * ldc + 0, alpha, beta);
        if (TRows.Value > 2 && TCols.Value > 1) StoreDot(s21, a + 2 * lda, w + 1 * ldw, vecEnd, k, c + 2 * ldc + 1, alpha, beta);
        if (TRows.Value > 2 && TCols.Value > 2) StoreDot(s22, a + 2 * lda, w + 2 * ldw, vecEnd, k, c + 2 * ldc + 2, alpha, beta);
        if (TRows.Value > 2 && TCols.Value > 3) StoreDot(s23, a + 2 * lda, w + 3 * ldw, vecEnd, k, c + 2 * ldc + 3, alpha, beta);
        if (TRows.Value > 3) StoreDot(s30, a + 3 * lda, w + 0 * ldw, vecEnd, k, c + 3 * ldc + 0, alpha, beta);
        if (TRows.Value > 3 && TCols.Value > 1) StoreDot(s31, a + 3 * lda, w + 1 * ldw, vecEnd, k, c + 3 * ldc + 1, alpha, beta);
        if (TRows.Value > 3 && TCols.Value > 2) StoreDot(s32, a + 3 * lda, w + 2 * ldw, vecEnd, k, c + 3 * ldc + 2, alpha, beta);
        if (TRows.Value > 3 && TCols.Value > 3) StoreDot(s33, a + 3 * lda, w + 3 * ldw, vecEnd, k, c + 3 * ldc + 3, alpha, beta);
    }

    /// <summary>Per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a, b) + Avx512F.UnpackHigh(a, b);

    /// <summary>Two <see cref="Pair"/> results to [a, b, c, d] per 128-bit lane (each that lane's share of a sum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quad(Vector512<float> ab, Vector512<float> cd) => Avx512F.Shuffle(ab, cd, 0x44) + Avx512F.Shuffle(ab, cd, 0xEE);

    /// <summary>Lanes [x0+x1, x2+x3, y0+y1, y2+y3] of two vectors' 128-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(Vector512<float> x, Vector512<float> y) => Avx512F.Shuffle4x128(x, y, 0x88) + Avx512F.Shuffle4x128(x, y, 0xDD);

    /// <summary>Adds the scalar k-tails to one row's four dot products and updates C[0..4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDots(Vector128<float> sums, float* a, float* w, nint ldw, int vecEnd, int k, float* c, float alpha, float beta)
    {
        if (vecEnd < k)
        {
            float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
            for (int p = vecEnd; p < k; p++)
            {
                t0 += a[p] * w[p];
                t1 += a[p] * w[ldw + p];
                t2 += a[p] * w[2 * ldw + p];
                t3 += a[p] * w[3 * ldw + p];
            }
            sums += Vector128.Create(t0, t1, t2, t3);
        }
        sums *= alpha;
        if (beta != 0f) sums += Vector128.Load(c) * beta;
        Vector128.Store(sums, c);
    }

    /// <summary>Reduces one dot product's vector, adds the scalar k-tail and updates one element of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDot(Vector512<float> sum, float* a, float* w, int vecEnd, int k, float* c, float alpha, float beta)
    {
        float s = Vector512.Sum(sum);
        for (int p = vecEnd; p < k; p++) s += a[p] * w[p];
        *c = beta == 0f ? alpha * s : alpha * s + beta * *c;
    }

    /// <summary>A compile-time integer: generic kernels specialised per value fold their row tests away.</summary>
    internal interface IConstant
    {
        static abstract int Value { get; }
    }

    // The row and column counts the small-M kernels (float, int8, NF4) specialise for.
    internal readonly struct Count0 : IConstant { public static int Value => 0; }
    internal readonly struct Count1 : IConstant { public static int Value => 1; }
    internal readonly struct Count2 : IConstant { public static int Value => 2; }
    internal readonly struct Count3 : IConstant { public static int Value => 3; }
    internal readonly struct Count4 : IConstant { public static int Value => 4; }
    internal readonly struct Count5 : IConstant { public static int Value => 5; }
    internal readonly struct Count6 : IConstant { public static int Value => 6; }
    internal readonly struct Count7 : IConstant { public static int Value => 7; }
    internal readonly struct Count8 : IConstant { public static int Value => 8; }
}
