// AVX-VNNI is a preview API on .NET 8: that target uses the dequantized-tile path instead.
#if NET9_0_OR_GREATER
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// int8 × int8 products with AVX-VNNI's vpdpbusd (uint8 × int8 → int32). Activations are
/// quantized per row to int8 and offset by +128 into uint8; the offset's contribution,
/// 128 · Σ_k w[n, k], is subtracted using row sums precomputed with the weight.
/// </summary>
internal static unsafe class Int8VnniKernel
{
    /// <summary>Bytes per vpdpbusd step.</summary>
    public const int Step = 32;

    /// <summary>
    /// Quantizes rows of x [m, k] to xq [m, kp] (uint8, value + 128, padding 128) with per-row
    /// scales absmax/127 in <paramref name="scales"/>.
    /// </summary>
    public static void QuantizeRows(int m, int k, int kp, float* x, int ldx, byte* xq, float* scales)
    {
        for (int i = 0; i < m; i++)
        {
            float* row = x + (long)i * ldx;
            byte* q = xq + (long)i * kp;
            float absMax = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(new ReadOnlySpan<float>(row, k));
            absMax = Math.Abs(absMax);
            float scale = absMax / 127f;
            scales[i] = scale;
            float inv = scale == 0f || !float.IsFinite(scale) ? 0f : 1f / scale;
            int c = 0;
            if (Avx512F.IsSupported)
            {
                var invV = Vector512.Create(inv);
                var offset = Vector512.Create(128);
                for (; c + 16 <= k; c += 16)
                {
                    // Round to nearest even (the default rounding mode), shift into [1, 255], narrow.
                    var v = Avx512F.ConvertToVector512Int32(Vector512.Load(row + c) * invV) + offset;
                    Vector128.Store(Avx512F.ConvertToVector128Byte(v), q + c);
                }
            }
            for (; c < k; c++) q[c] = (byte)(Math.Clamp((int)MathF.Round(row[c] * inv), -127, 127) + 128);
            for (; c < kp; c++) q[c] = 128;
        }
    }

    /// <summary>
    /// y[i, j] = (Σ_k xq[i, k]·w[j, k] − 128·rowSum[j]) · xScale[i] · wScale[j] for rows [0, m) and
    /// weight rows [n0, n1); kp (a multiple of 32) is the padded row length of xq and w.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int m, int kp, byte* xq, float* xScale, sbyte* w, float* wScale, int* rowSums,
        int n0, int n1, float* y, int ldy)
    {
        // Blocks of rows small enough that their quantized activations stay in L1/L2 while every weight row passes.
        const int rowBlock = 64;
        for (int i0 = 0; i0 < m; i0 += rowBlock)
        {
            int i1 = Math.Min(m, i0 + rowBlock);
            int j = n0;
            for (; j + 4 <= n1; j += 4)
                for (int i = i0; i < i1; i += 4)
                    Tile<GemmSmallM.Count4>(Math.Min(4, i1 - i), kp, xq + (long)i * kp, xScale + i, w + (long)j * kp, wScale + j, rowSums + j, y + (long)i * ldy + j, ldy);
            for (; j < n1; j++)
                for (int i = i0; i < i1; i += 4)
                    Tile<GemmSmallM.Count1>(Math.Min(4, i1 - i), kp, xq + (long)i * kp, xScale + i, w + (long)j * kp, wScale + j, rowSums + j, y + (long)i * ldy + j, ldy);
        }
    }

    private static void Tile<TCols>(int rows, int kp, byte* x, float* xs, sbyte* w, float* ws, int* sums, float* y, int ldy)
        where TCols : struct, GemmSmallM.IConstant
    {
        switch (rows)
        {
            case 1: Dot<GemmSmallM.Count1, TCols>(kp, x, xs, w, ws, sums, y, ldy); break;
            case 2: Dot<GemmSmallM.Count2, TCols>(kp, x, xs, w, ws, sums, y, ldy); break;
            case 3: Dot<GemmSmallM.Count3, TCols>(kp, x, xs, w, ws, sums, y, ldy); break;
            default: Dot<GemmSmallM.Count4, TCols>(kp, x, xs, w, ws, sums, y, ldy); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TRows, TCols>(int kp, byte* x, float* xs, sbyte* w, float* ws, int* sums, float* y, int ldy)
        where TRows : struct, GemmSmallM.IConstant where TCols : struct, GemmSmallM.IConstant
    {
        Vector256<int> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
            s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Vector256<byte> x0, x1 = default, x2 = default, x3 = default;
        Vector256<sbyte> w0, w1 = default, w2 = default, w3 = default;
        for (int p = 0; p < kp; p += Step)
        {
            w0 = Vector256.Load(w + p);
            if (TCols.Value > 1) { w1 = Vector256.Load(w + kp + p); w2 = Vector256.Load(w + 2 * kp + p); w3 = Vector256.Load(w + 3 * kp + p); }
            x0 = Vector256.Load(x + p);
            s00 = AvxVnni.MultiplyWideningAndAdd(s00, x0, w0);
            if (TCols.Value > 1) { s01 = AvxVnni.MultiplyWideningAndAdd(s01, x0, w1); s02 = AvxVnni.MultiplyWideningAndAdd(s02, x0, w2); s03 = AvxVnni.MultiplyWideningAndAdd(s03, x0, w3); }
            if (TRows.Value > 1)
            {
                x1 = Vector256.Load(x + kp + p);
                s10 = AvxVnni.MultiplyWideningAndAdd(s10, x1, w0);
                if (TCols.Value > 1) { s11 = AvxVnni.MultiplyWideningAndAdd(s11, x1, w1); s12 = AvxVnni.MultiplyWideningAndAdd(s12, x1, w2); s13 = AvxVnni.MultiplyWideningAndAdd(s13, x1, w3); }
            }
            if (TRows.Value > 2)
            {
                x2 = Vector256.Load(x + 2 * kp + p);
                s20 = AvxVnni.MultiplyWideningAndAdd(s20, x2, w0);
                if (TCols.Value > 1) { s21 = AvxVnni.MultiplyWideningAndAdd(s21, x2, w1); s22 = AvxVnni.MultiplyWideningAndAdd(s22, x2, w2); s23 = AvxVnni.MultiplyWideningAndAdd(s23, x2, w3); }
            }
            if (TRows.Value > 3)
            {
                x3 = Vector256.Load(x + 3 * kp + p);
                s30 = AvxVnni.MultiplyWideningAndAdd(s30, x3, w0);
                if (TCols.Value > 1) { s31 = AvxVnni.MultiplyWideningAndAdd(s31, x3, w1); s32 = AvxVnni.MultiplyWideningAndAdd(s32, x3, w2); s33 = AvxVnni.MultiplyWideningAndAdd(s33, x3, w3); }
            }
        }
        Store<TCols>(s00, s01, s02, s03, xs[0], ws, sums, y);
        if (TRows.Value > 1) Store<TCols>(s10, s11, s12, s13, xs[1], ws, sums, y + ldy);
        if (TRows.Value > 2) Store<TCols>(s20, s21, s22, s23, xs[2], ws, sums, y + 2 * ldy);
        if (TRows.Value > 3) Store<TCols>(s30, s31, s32, s33, xs[3], ws, sums, y + 3 * ldy);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TCols>(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d, float xs, float* ws, int* sums, float* y)
        where TCols : struct, GemmSmallM.IConstant
    {
        y[0] = (Vector256.Sum(a) - 128 * sums[0]) * xs * ws[0];
        if (TCols.Value > 1)
        {
            y[1] = (Vector256.Sum(b) - 128 * sums[1]) * xs * ws[1];
            y[2] = (Vector256.Sum(c) - 128 * sums[2]) * xs * ws[2];
            y[3] = (Vector256.Sum(d) - 128 * sums[3]) * xs * ws[3];
        }
    }
}
#endif
