using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Kernels;

/// <summary>
/// NF4 products for few rows of activations (token-by-token generation), bound by reading the
/// weight: each weight row's 4-bit codes are streamed once for up to eight activation rows,
/// decoded in registers (a permute looks the 16 levels, pre-multiplied by the block scale, up)
/// and multiplied right away.
/// </summary>
internal static unsafe class Nf4SmallMKernel
{
    /// <summary>
    /// Activation rows handled per pass over the weight, and the most rows worth sending here: the
    /// kernel decodes every block once per pass, which wins at few rows (M = 6 on Zen 4: 52-78
    /// GFLOP/s against 50-57 for dequantized tiles), while at 8 rows the tiles' float GEMM is ahead
    /// (60-64 against 47-59 on Zen 4; 95-115 against 85-89 on Zen 5).
    /// </summary>
    public const int RowsPerPass = 6;

    /// <summary>
    /// y[i, j] = Σ_k x[i, k]·W[j, k] for i in [0, m), j in [n0, n1). x rows have stride ldx and hold
    /// W.Stride readable values (zero beyond Columns).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int m, float* x, int ldx, Nf4Matrix w, byte* codes, int n0, int n1, float* y, int ldy)
    {
        int blocks = w.BlocksPerRow;
        float* decoded = stackalloc float[blocks];
        var decodedSpan = new Span<float>(decoded, blocks);
        long rowBytes = (long)blocks * (Nf4Matrix.BlockSize / 2);
        // Slices of K whose activation rows fit in L1 (~32 KB) while every weight row passes over them.
        int sliceBlocks = Math.Max(1, 32 * 1024 / (Math.Min(m, RowsPerPass) * Nf4Matrix.BlockSize * sizeof(float)));
        fixed (float* absMax = w.AbsMax)
        {
            for (int b0 = 0; b0 < blocks; b0 += sliceBlocks)
            {
                int count = Math.Min(sliceBlocks, blocks - b0);
                bool accumulate = b0 > 0;
                for (int j = n0; j < n1; j++)
                {
                    // Plain absmax values are read in place; double-quantized ones are decoded per row.
                    float* scales;
                    if (w.DoubleQuantized)
                    {
                        w.DecodeRowScales(j, decodedSpan);
                        scales = decoded + b0;
                    }
                    else scales = absMax + (long)j * blocks + b0;
                    byte* row = codes + j * rowBytes + (long)b0 * (Nf4Matrix.BlockSize / 2);
                    for (int i = 0; i < m; i += RowsPerPass)
                    {
                        float* xi = x + (long)i * ldx + b0 * Nf4Matrix.BlockSize;
                        float* yi = y + (long)i * ldy + j;
                        switch (Math.Min(RowsPerPass, m - i))
                        {
                            case 1: Row1(count, row, scales, xi, yi, accumulate); break;
                            case 2: Row<GemmSmallM.Count2>(count, row, scales, xi, ldx, yi, ldy, accumulate); break;
                            case 3: Row<GemmSmallM.Count3>(count, row, scales, xi, ldx, yi, ldy, accumulate); break;
                            case 4: Row<GemmSmallM.Count4>(count, row, scales, xi, ldx, yi, ldy, accumulate); break;
                            case 5: Row<GemmSmallM.Count5>(count, row, scales, xi, ldx, yi, ldy, accumulate); break;
                            default: Row<GemmSmallM.Count6>(count, row, scales, xi, ldx, yi, ldy, accumulate); break;
                        }
                    }
                }
            }
        }
    }

    /// <summary>One activation row: four accumulators so no FMA waits on the previous one of its block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1(int blocks, byte* codes, float* scales, float* x, float* y, bool accumulate)
    {
        var table = Nf4Matrix.LevelsVector;
        var mask = Vector512.Create(0xF);
        Vector512<float> a = default, b = default, c = default, d = default;
        for (int blk = 0; blk < blocks; blk++, codes += Nf4Matrix.BlockSize / 2, x += Nf4Matrix.BlockSize)
        {
            var levels = table * Vector512.Create(scales[blk]);
            var q0 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes));
            var q1 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes + 16));
            a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(levels, q0 & mask), Vector512.Load(x), a);
            b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(levels, q1 & mask), Vector512.Load(x + 16), b);
            c = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(levels, Vector512.ShiftRightLogical(q0, 4)), Vector512.Load(x + 32), c);
            d = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(levels, Vector512.ShiftRightLogical(q1, 4)), Vector512.Load(x + 48), d);
        }
        float sum = Vector512.Sum((a + b) + (c + d));
        *y = accumulate ? *y + sum : sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TRows>(int blocks, byte* codes, float* scales, float* x, int ldx, float* y, int ldy, bool accumulate)
        where TRows : struct, GemmSmallM.IConstant
    {
        var table = Nf4Matrix.LevelsVector;
        var mask = Vector512.Create(0xF);
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default,
            a3 = default, b3 = default, a4 = default, b4 = default, a5 = default, b5 = default;
        float* x1 = x + 1 * ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx;
        for (int blk = 0; blk < blocks; blk++, codes += Nf4Matrix.BlockSize / 2)
        {
            var levels = table * Vector512.Create(scales[blk]);
            var q0 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes));
            var q1 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes + 16));
            // Values 0-15, 16-31 in the low nibbles, 32-47, 48-63 in the high ones.
            var d0 = Avx512F.PermuteVar16x32(levels, q0 & mask);
            var d1 = Avx512F.PermuteVar16x32(levels, q1 & mask);
            var d2 = Avx512F.PermuteVar16x32(levels, Vector512.ShiftRightLogical(q0, 4));
            var d3 = Avx512F.PermuteVar16x32(levels, Vector512.ShiftRightLogical(q1, 4));
            int c = blk * Nf4Matrix.BlockSize;
            a0 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x + c), a0);
            b0 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x + c + 16), b0);
            a0 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x + c + 32), a0);
            b0 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x + c + 48), b0);
            if (TRows.Value > 1)
            {
                a1 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x1 + c), a1);
                b1 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x1 + c + 16), b1);
                a1 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x1 + c + 32), a1);
                b1 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x1 + c + 48), b1);
            }
            if (TRows.Value > 2)
            {
                a2 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x2 + c), a2);
                b2 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x2 + c + 16), b2);
                a2 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x2 + c + 32), a2);
                b2 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x2 + c + 48), b2);
            }
            if (TRows.Value > 3)
            {
                a3 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x3 + c), a3);
                b3 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x3 + c + 16), b3);
                a3 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x3 + c + 32), a3);
                b3 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x3 + c + 48), b3);
            }
            if (TRows.Value > 4)
            {
                a4 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x4 + c), a4);
                b4 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x4 + c + 16), b4);
                a4 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x4 + c + 32), a4);
                b4 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x4 + c + 48), b4);
            }
            if (TRows.Value > 5)
            {
                a5 = Avx512F.FusedMultiplyAdd(d0, Vector512.Load(x5 + c), a5);
                b5 = Avx512F.FusedMultiplyAdd(d1, Vector512.Load(x5 + c + 16), b5);
                a5 = Avx512F.FusedMultiplyAdd(d2, Vector512.Load(x5 + c + 32), a5);
                b5 = Avx512F.FusedMultiplyAdd(d3, Vector512.Load(x5 + c + 48), b5);
            }
        }
        Store(y, Vector512.Sum(a0 + b0), accumulate);
        if (TRows.Value > 1) Store(y + 1 * ldy, Vector512.Sum(a1 + b1), accumulate);
        if (TRows.Value > 2) Store(y + 2 * ldy, Vector512.Sum(a2 + b2), accumulate);
        if (TRows.Value > 3) Store(y + 3 * ldy, Vector512.Sum(a3 + b3), accumulate);
        if (TRows.Value > 4) Store(y + 4 * ldy, Vector512.Sum(a4 + b4), accumulate);
        if (TRows.Value > 5) Store(y + 5 * ldy, Vector512.Sum(a5 + b5), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, float sum, bool accumulate) => *y = accumulate ? *y + sum : sum;
}
