using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Products with a 16-bit weight W [N, K] (BF16 or F16 bits, row stride K) for few activation rows (token-by-token
/// generation and small training batches), bound by reading the weight: each weight value is loaded once per pass and
/// widened in registers (<see cref="IHalfWidening"/>), products accumulate in float32 with FMA. AVX-512: one weight row
/// after another for a single activation row (one sequential stream), else four weight rows against up to four activation
/// rows at once (16 accumulators of 16 lanes); a portable <see cref="Vector{T}"/> path runs everywhere else. Larger M goes through widened tiles and the float GEMM (<see cref="QuantizedGemm"/>).
/// </summary>
internal static unsafe class HalfDotKernel
{
    /// <summary>The most activation rows sent to the direct kernels; more take widened tiles and the float GEMM.</summary>
    public const int MaxRows = 8;

    // Activation rows kept in registers per pass over a block of weight rows (forward) or a column strip (input gradient).
    private const int RowsPerPass = 4;

    // Columns of the input gradient per strip: two 16-lane vectors, a whole 64-byte line of 16-bit weights.
    public const int StripColumns = 32;

    [ThreadStatic] internal static bool t_forcePortable;

    /// <summary>True when the AVX-512 kernels can run here.</summary>
    internal static bool Avx512Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The path the current thread's calls take (tests force the portable one with <see cref="t_forcePortable"/>).</summary>
    internal static bool UseAvx512 => Avx512Supported && !t_forcePortable;

    /// <summary>dst[r, c] = widen(src[r, c]) for r &lt; rows, c &lt; cols (strides lds and ldd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenRows<TW>(int rows, int cols, ushort* src, int lds, float* dst, int ldd, bool avx512) where TW : struct, IHalfWidening
    {
        for (int r = 0; r < rows; r++)
        {
            ushort* s = src + (long)r * lds;
            float* d = dst + (long)r * ldd;
            int c = 0;
            if (avx512)
            {
                for (; c + 32 <= cols; c += 32)
                {
                    Vector512.Store(TW.Widen(Vector256.Load(s + c)), d + c);
                    Vector512.Store(TW.Widen(Vector256.Load(s + c + 16)), d + c + 16);
                }
                for (; c + 16 <= cols; c += 16) Vector512.Store(TW.Widen(Vector256.Load(s + c)), d + c);
            }
            else
            {
                int step = Vector<ushort>.Count;
                for (; c + step <= cols; c += step)
                {
                    Vector.Widen(Vector.Load(s + c), out Vector<uint> lo, out Vector<uint> hi);
                    Vector.Store(TW.Widen(lo), d + c);
                    Vector.Store(TW.Widen(hi), d + c + Vector<uint>.Count);
                }
            }
            for (; c < cols; c++) d[c] = TW.Widen(s[c]);
        }
    }

    /// <summary>y[i, j] = Σ_k x[i, k]·W[j, k] for i &lt; m (≤ <see cref="MaxRows"/>), j in [n0, n1); x rows have stride k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed<TW>(int m, float* x, int k, ushort* w, int n0, int n1, float* y, int ldy, bool avx512)
        where TW : struct, IHalfWidening
    {
        if (!avx512)
        {
            PortableForward<TW>(m, x, k, w, n0, n1, y, ldy);
            return;
        }
        int j = n0;
        if (m == 1)
        {
            // One activation row is bound by reading W: one weight row after another is a single sequential stream, which
            // the hardware prefetcher follows best (four interleaved rows of 1.5 KB ran at ~2/3 of the DRAM rate).
            for (; j < n1; j++) y[j] = Dot1<TW>(k, x, w + (long)j * k);
            return;
        }
        // Four weight rows at a time stay in L1/L2 while every group of activation rows passes over them.
        for (; j + 4 <= n1; j += 4)
            for (int i = 0; i < m; i += RowsPerPass)
            {
                float* xi = x + (long)i * k, yi = y + (long)i * ldy + j;
                ushort* wj = w + (long)j * k;
                switch (Math.Min(RowsPerPass, m - i))
                {
                    case 1: Dot4<TW, GemmSmallM.Count1>(k, xi, wj, yi, ldy); break;
                    case 2: Dot4<TW, GemmSmallM.Count2>(k, xi, wj, yi, ldy); break;
                    case 3: Dot4<TW, GemmSmallM.Count3>(k, xi, wj, yi, ldy); break;
                    default: Dot4<TW, GemmSmallM.Count4>(k, xi, wj, yi, ldy); break;
                }
            }
        for (; j < n1; j++)
            for (int i = 0; i < m; i++)
                y[(long)i * ldy + j] = Dot1<TW>(k, x + (long)i * k, w + (long)j * k);
    }

    /// <summary>Four weight rows against TRows activation rows: y[r, q] for r &lt; TRows, q &lt; 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4<TW, TRows>(int k, float* x, ushort* w, float* y, int ldy)
        where TW : struct, IHalfWidening where TRows : struct, GemmSmallM.IConstant
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
            a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        ushort* w1 = w + k, w2 = w + 2L * k, w3 = w + 3L * k;
        float* x1 = x + k, x2 = x + 2L * k, x3 = x + 3L * k;
        int c = 0;
        for (; c + 16 <= k; c += 16)
        {
            var v0 = TW.Widen(Vector256.Load(w + c));
            var v1 = TW.Widen(Vector256.Load(w1 + c));
            var v2 = TW.Widen(Vector256.Load(w2 + c));
            var v3 = TW.Widen(Vector256.Load(w3 + c));
            var xv = Vector512.Load(x + c);
            a00 = Avx512F.FusedMultiplyAdd(v0, xv, a00); a01 = Avx512F.FusedMultiplyAdd(v1, xv, a01);
            a02 = Avx512F.FusedMultiplyAdd(v2, xv, a02); a03 = Avx512F.FusedMultiplyAdd(v3, xv, a03);
            if (TRows.Value > 1)
            {
                xv = Vector512.Load(x1 + c);
                a10 = Avx512F.FusedMultiplyAdd(v0, xv, a10); a11 = Avx512F.FusedMultiplyAdd(v1, xv, a11);
                a12 = Avx512F.FusedMultiplyAdd(v2, xv, a12); a13 = Avx512F.FusedMultiplyAdd(v3, xv, a13);
            }
            if (TRows.Value > 2)
            {
                xv = Vector512.Load(x2 + c);
                a20 = Avx512F.FusedMultiplyAdd(v0, xv, a20); a21 = Avx512F.FusedMultiplyAdd(v1, xv, a21);
                a22 = Avx512F.FusedMultiplyAdd(v2, xv, a22); a23 = Avx512F.FusedMultiplyAdd(v3, xv, a23);
            }
            if (TRows.Value > 3)
            {
                xv = Vector512.Load(x3 + c);
                a30 = Avx512F.FusedMultiplyAdd(v0, xv, a30); a31 = Avx512F.FusedMultiplyAdd(v1, xv, a31);
                a32 = Avx512F.FusedMultiplyAdd(v2, xv, a32); a33 = Avx512F.FusedMultiplyAdd(v3, xv, a33);
            }
        }
        Finish4<TW>(c, k, x, w, y, a00, a01, a02, a03);
        if (TRows.Value > 1) Finish4<TW>(c, k, x1, w, y + ldy, a10, a11, a12, a13);
        if (TRows.Value > 2) Finish4<TW>(c, k, x2, w, y + 2L * ldy, a20, a21, a22, a23);
        if (TRows.Value > 3) Finish4<TW>(c, k, x3, w, y + 3L * ldy, a30, a31, a32, a33);
    }

    /// <summary>Sums one activation row's four accumulators and adds the columns [c, k) the vectors did not cover.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish4<TW>(int c, int k, float* x, ushort* w, float* y, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2,
        Vector512<float> a3) where TW : struct, IHalfWidening
    {
        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; c < k; c++)
        {
            float xv = x[c];
            s0 += xv * TW.Widen(w[c]); s1 += xv * TW.Widen(w[k + c]);
            s2 += xv * TW.Widen(w[2L * k + c]); s3 += xv * TW.Widen(w[3L * k + c]);
        }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }

    /// <summary>One weight row against one activation row: two accumulators so consecutive FMAs do not wait on each other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1<TW>(int k, float* x, ushort* w) where TW : struct, IHalfWidening
    {
        Vector512<float> a = default, b = default;
        int c = 0;
        for (; c + 32 <= k; c += 32)
        {
            a = Avx512F.FusedMultiplyAdd(TW.Widen(Vector256.Load(w + c)), Vector512.Load(x + c), a);
            b = Avx512F.FusedMultiplyAdd(TW.Widen(Vector256.Load(w + c + 16)), Vector512.Load(x + c + 16), b);
        }
        for (; c + 16 <= k; c += 16) a = Avx512F.FusedMultiplyAdd(TW.Widen(Vector256.Load(w + c)), Vector512.Load(x + c), a);
        float s = Vector512.Sum(a + b);
        for (; c < k; c++) s += x[c] * TW.Widen(w[c]);
        return s;
    }

    /// <summary>
    /// dx[i, c] += Σ_j dy[i, j]·W[j, c] for i &lt; m (≤ <see cref="MaxRows"/>), c in [c0, c1); dy rows have stride n, dx rows stride k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAccumulate<TW>(int m, float* dy, int n, ushort* w, int k, int c0, int c1, float* dx, bool avx512)
        where TW : struct, IHalfWidening
    {
        if (!avx512)
        {
            PortableBackward<TW>(m, dy, n, w, k, c0, c1, dx);
            return;
        }
        int c = c0;
        for (; c + StripColumns <= c1; c += StripColumns)
            for (int i = 0; i < m; i += RowsPerPass)
            {
                float* dyi = dy + (long)i * n, dxi = dx + (long)i * k + c;
                switch (Math.Min(RowsPerPass, m - i))
                {
                    case 1: Strip<TW, GemmSmallM.Count1>(n, dyi, w + c, k, dxi); break;
                    case 2: Strip<TW, GemmSmallM.Count2>(n, dyi, w + c, k, dxi); break;
                    case 3: Strip<TW, GemmSmallM.Count3>(n, dyi, w + c, k, dxi); break;
                    default: Strip<TW, GemmSmallM.Count4>(n, dyi, w + c, k, dxi); break;
                }
            }
        // The last columns (fewer than a strip) of an odd-width weight.
        if (c < c1) PortableBackward<TW>(m, dy, n, w, k, c, c1, dx);
    }

    /// <summary>A 32-column strip of TRows gradient rows held in registers while every weight row passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip<TW, TRows>(int n, float* dy, ushort* w, int k, float* dx)
        where TW : struct, IHalfWidening where TRows : struct, GemmSmallM.IConstant
    {
        float* dx1 = dx + k, dx2 = dx + 2L * k, dx3 = dx + 3L * k;
        float* dy1 = dy + n, dy2 = dy + 2L * n, dy3 = dy + 3L * n;
        var a0 = Vector512.Load(dx); var b0 = Vector512.Load(dx + 16);
        Vector512<float> a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        if (TRows.Value > 1) { a1 = Vector512.Load(dx1); b1 = Vector512.Load(dx1 + 16); }
        if (TRows.Value > 2) { a2 = Vector512.Load(dx2); b2 = Vector512.Load(dx2 + 16); }
        if (TRows.Value > 3) { a3 = Vector512.Load(dx3); b3 = Vector512.Load(dx3 + 16); }
        for (int j = 0; j < n; j++, w += k)
        {
            var v0 = TW.Widen(Vector256.Load(w));
            var v1 = TW.Widen(Vector256.Load(w + 16));
            var g = Vector512.Create(dy[j]);
            a0 = Avx512F.FusedMultiplyAdd(v0, g, a0); b0 = Avx512F.FusedMultiplyAdd(v1, g, b0);
            if (TRows.Value > 1) { g = Vector512.Create(dy1[j]); a1 = Avx512F.FusedMultiplyAdd(v0, g, a1); b1 = Avx512F.FusedMultiplyAdd(v1, g, b1); }
            if (TRows.Value > 2) { g = Vector512.Create(dy2[j]); a2 = Avx512F.FusedMultiplyAdd(v0, g, a2); b2 = Avx512F.FusedMultiplyAdd(v1, g, b2); }
            if (TRows.Value > 3) { g = Vector512.Create(dy3[j]); a3 = Avx512F.FusedMultiplyAdd(v0, g, a3); b3 = Avx512F.FusedMultiplyAdd(v1, g, b3); }
        }
        Vector512.Store(a0, dx); Vector512.Store(b0, dx + 16);
        if (TRows.Value > 1) { Vector512.Store(a1, dx1); Vector512.Store(b1, dx1 + 16); }
        if (TRows.Value > 2) { Vector512.Store(a2, dx2); Vector512.Store(b2, dx2 + 16); }
        if (TRows.Value > 3) { Vector512.Store(a3, dx3); Vector512.Store(b3, dx3 + 16); }
    }

    /// <summary>Portable forward: one weight row widened a <see cref="Vector{T}"/> at a time against each activation row.</summary>
    private static void PortableForward<TW>(int m, float* x, int k, ushort* w, int n0, int n1, float* y, int ldy) where TW : struct, IHalfWidening
    {
        int step = Vector<ushort>.Count, half = Vector<uint>.Count;
        for (int j = n0; j < n1; j++)
        {
            ushort* wj = w + (long)j * k;
            for (int i = 0; i < m; i++)
            {
                float* xi = x + (long)i * k;
                Vector<float> a = default, b = default;
                int c = 0;
                for (; c + step <= k; c += step)
                {
                    Vector.Widen(Vector.Load(wj + c), out Vector<uint> lo, out Vector<uint> hi);
                    a += TW.Widen(lo) * Vector.Load(xi + c);
                    b += TW.Widen(hi) * Vector.Load(xi + c + half);
                }
                float s = Vector.Sum(a + b);
                for (; c < k; c++) s += xi[c] * TW.Widen(wj[c]);
                y[(long)i * ldy + j] = s;
            }
        }
    }

    /// <summary>Portable input gradient: each weight row's columns [c0, c1) scaled by dy[i, j] and added to dx row i.</summary>
    private static void PortableBackward<TW>(int m, float* dy, int n, ushort* w, int k, int c0, int c1, float* dx) where TW : struct, IHalfWidening
    {
        int step = Vector<ushort>.Count, half = Vector<uint>.Count;
        for (int i = 0; i < m; i++)
        {
            float* dxi = dx + (long)i * k;
            for (int j = 0; j < n; j++)
            {
                float g = dy[(long)i * n + j];
                if (g == 0f) continue;
                ushort* wj = w + (long)j * k;
                var gv = new Vector<float>(g);
                int c = c0;
                for (; c + step <= c1; c += step)
                {
                    Vector.Widen(Vector.Load(wj + c), out Vector<uint> lo, out Vector<uint> hi);
                    Vector.Store(Vector.Load(dxi + c) + TW.Widen(lo) * gv, dxi + c);
                    Vector.Store(Vector.Load(dxi + c + half) + TW.Widen(hi) * gv, dxi + c + half);
                }
                for (; c < c1; c++) dxi[c] += g * TW.Widen(wj[c]);
            }
        }
    }
}
