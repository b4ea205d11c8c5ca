using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Products with a 16-bit weight W [N, K] (BF16 or F16 bits, row stride K) that are bound by reading the weight: the
/// forward product of one activation row (token-by-token generation) and the input gradient of a few rows (small training
/// batches). Each weight value is loaded once and widened in registers (<see cref="IHalfWidening"/>), products accumulate
/// in float32 with FMA; AVX-512, or a portable <see cref="Vector{T}"/> path everywhere else. The rest goes through
/// widened tiles and the float GEMM (<see cref="QuantizedGemm"/>).
/// </summary>
internal static unsafe class HalfDotKernel
{
    /// <summary>The most gradient rows sent to the direct input-gradient kernel; more take widened tiles and the float GEMM.</summary>
    public const int MaxRows = 8;

    // Activation rows kept in registers per pass over a column strip (input gradient).
    private const int RowsPerPass = 4;

    // Columns of the input gradient per strip: two 16-lane vectors, a whole 64-byte line of 16-bit weights.
    public const int StripColumns = 32;

    [ThreadStatic] internal static bool t_forcePortable;

    /// <summary>Tests set this to run F16 rows through the managed widening instead of <see cref="Float16RowKernel"/>.</summary>
    [ThreadStatic] internal static bool t_managedFloat16;

    /// <summary>True when the AVX-512 kernels can run here.</summary>
    internal static bool Avx512Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The path the current thread's calls take (tests force the portable one with <see cref="t_forcePortable"/>).</summary>
    internal static bool UseAvx512 => Avx512Supported && !t_forcePortable;

    /// <summary>dst[r, c] = widen(src[r, c]) for r &lt; rows, c &lt; cols (strides lds and ldd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenRows<TW>(int rows, int cols, ushort* src, int lds, float* dst, int ldd, bool avx512) where TW : struct, IHalfWidening
    {
        // The part of each row the assembled F16 widening takes (whole steps of it), decided once for all rows.
        int assembled = avx512 && UsesAssembledF16<TW>() ? cols / Float16RowKernel.WidenStep * Float16RowKernel.WidenStep : 0;
        for (int r = 0; r < rows; r++)
        {
            ushort* s = src + (long)r * lds;
            float* d = dst + (long)r * ldd;
            int c = 0;
            if (assembled > 0)
            {
                Float16RowKernel.Widen(s, assembled, d);
                c = assembled;
            }
            else if (avx512)
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

    /// <summary>
    /// y[j] = Σ_k x[k]·W[j, k] for j in [n0, n1): one activation row (a decode step), bound by reading W. One weight row
    /// after another is a single sequential stream, which the hardware prefetcher follows best (four interleaved rows of
    /// 1.5 KB streamed at 13-19 GB/s from DRAM on a Zen 4 host, one row at a time at 25-29). More rows take widened tiles
    /// and the float GEMM, which beat a register-blocked 16-bit kernel there at 2-8 rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyRow<TW>(float* x, int k, ushort* w, int n0, int n1, float* y, bool avx512) where TW : struct, IHalfWidening
    {
        if (avx512 && UsesAssembledRows<TW>(k))
            Float16RowKernel.Multiply(x, k, w + (long)n0 * k, n1 - n0, y + n0);
        else if (avx512)
            for (int j = n0; j < n1; j++) y[j] = Dot1<TW>(k, x, w + (long)j * k);
        else
            PortableRow<TW>(x, k, w, n0, n1, y);
    }

    /// <summary>
    /// One weight row against one activation row: two accumulators so consecutive FMAs do not wait on each other (F16 rows
    /// that <see cref="Float16RowKernel"/> takes go there). The AVX-512 one-row product's value of each output (greedy
    /// decoding's screen recomputes candidates with it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Dot1<TW>(int k, float* x, ushort* w) where TW : struct, IHalfWidening
    {
        if (UsesAssembledRows<TW>(k))
        {
            float y;
            Float16RowKernel.Multiply(x, k, w, 1, &y);
            return y;
        }
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
    /// Whether the AVX-512 one-row products of this format and row length go through <see cref="Float16RowKernel"/> (F16
    /// rows of a multiple of 32 weights); the same answer for every row of a matrix, so a value computed alone (a screened
    /// candidate) is the one the whole row product gives.
    /// </summary>
    private static bool UsesAssembledRows<TW>(int k) where TW : struct, IHalfWidening => UsesAssembledF16<TW>() && Float16RowKernel.Supports(k);

    /// <summary>Whether this format is F16 and its AVX-512 paths may take <see cref="Float16RowKernel"/> here (not turned off by a test).</summary>
    private static bool UsesAssembledF16<TW>() where TW : struct, IHalfWidening =>
        typeof(TW) == typeof(Float16Widening) && !t_managedFloat16 && Float16RowKernel.IsAvailable;

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

    /// <summary>Portable forward: one weight row widened a <see cref="Vector{T}"/> at a time against the activation row.</summary>
    private static void PortableRow<TW>(float* x, int k, ushort* w, int n0, int n1, float* y) where TW : struct, IHalfWidening
    {
        int step = Vector<ushort>.Count, half = Vector<uint>.Count;
        for (int j = n0; j < n1; j++)
        {
            ushort* wj = w + (long)j * k;
            Vector<float> a = default, b = default;
            int c = 0;
            for (; c + step <= k; c += step)
            {
                Vector.Widen(Vector.Load(wj + c), out Vector<uint> lo, out Vector<uint> hi);
                a += TW.Widen(lo) * Vector.Load(x + c);
                b += TW.Widen(hi) * Vector.Load(x + c + half);
            }
            float s = Vector.Sum(a + b);
            for (; c < k; c++) s += x[c] * TW.Widen(wj[c]);
            y[j] = s;
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
