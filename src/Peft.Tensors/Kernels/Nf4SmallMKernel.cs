using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Kernels;

/// <summary>
/// NF4 products for few rows of activations (token-by-token generation), bound by reading the
/// weight: each weight row's 4-bit codes are streamed once per group of up to four activation
/// rows, decoded in registers (a permute looks the 16 levels up) and multiplied right away.
/// </summary>
internal static unsafe class Nf4SmallMKernel
{
    /// <summary>Activation rows handled per pass over the weight.</summary>
    public const int RowsPerPass = 4;

    /// <summary>
    /// y[i, j] = Σ_k x[i, k]·W[j, k] for i in [0, m), j in [n0, n1). x rows have stride ldx and hold
    /// W.Stride readable values (zero beyond Columns).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int m, float* x, int ldx, Nf4Matrix w, byte* codes, int n0, int n1, float* y, int ldy)
    {
        int blocks = w.BlocksPerRow;
        float* scales = stackalloc float[blocks];
        var scaleSpan = new Span<float>(scales, blocks);
        long rowBytes = (long)blocks * (Nf4Matrix.BlockSize / 2);
        for (int j = n0; j < n1; j++)
        {
            w.DecodeRowScales(j, scaleSpan);
            byte* row = codes + j * rowBytes;
            for (int i = 0; i < m; i += RowsPerPass)
            {
                float* xi = x + (long)i * ldx;
                float* yi = y + (long)i * ldy + j;
                switch (Math.Min(RowsPerPass, m - i))
                {
                    case 1: Row<One>(blocks, row, scales, xi, ldx, yi, ldy); break;
                    case 2: Row<Two>(blocks, row, scales, xi, ldx, yi, ldy); break;
                    case 3: Row<Three>(blocks, row, scales, xi, ldx, yi, ldy); break;
                    default: Row<Four>(blocks, row, scales, xi, ldx, yi, ldy); break;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TRows>(int blocks, byte* codes, float* scales, float* x, int ldx, float* y, int ldy)
        where TRows : struct, GemmSmallM.IConstant
    {
        var table = Nf4Matrix.LevelsVector;
        var mask = Vector512.Create(0xF);
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        float* x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        for (int blk = 0; blk < blocks; blk++, codes += Nf4Matrix.BlockSize / 2)
        {
            var s = Vector512.Create(scales[blk]);
            var q0 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes));
            var q1 = Avx512F.ConvertToVector512Int32(Vector128.Load(codes + 16));
            // Values 0-15, 16-31 in the low nibbles, 32-47, 48-63 in the high ones.
            var d0 = Avx512F.PermuteVar16x32(table, q0 & mask) * s;
            var d1 = Avx512F.PermuteVar16x32(table, q1 & mask) * s;
            var d2 = Avx512F.PermuteVar16x32(table, Vector512.ShiftRightLogical(q0, 4)) * s;
            var d3 = Avx512F.PermuteVar16x32(table, Vector512.ShiftRightLogical(q1, 4)) * s;
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
        }
        y[0] = Vector512.Sum(a0 + b0);
        if (TRows.Value > 1) y[ldy] = Vector512.Sum(a1 + b1);
        if (TRows.Value > 2) y[2 * ldy] = Vector512.Sum(a2 + b2);
        if (TRows.Value > 3) y[3 * ldy] = Vector512.Sum(a3 + b3);
    }

    private readonly struct One : GemmSmallM.IConstant { public static int Value => 1; }
    private readonly struct Two : GemmSmallM.IConstant { public static int Value => 2; }
    private readonly struct Three : GemmSmallM.IConstant { public static int Value => 3; }
    private readonly struct Four : GemmSmallM.IConstant { public static int Value => 4; }
}
