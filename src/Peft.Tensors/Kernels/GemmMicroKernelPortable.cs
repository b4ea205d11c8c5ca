using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Portable micro-kernel on Vector128 (NEON on ARM, SSE elsewhere): a 6×8 tile of C in 12
/// accumulators, which fits both the 16 xmm and the 32 NEON registers. Uses separate multiply
/// and add because a portable fused multiply-add API only exists from .NET 9.
/// </summary>
internal readonly unsafe struct GemmMicroKernelPortable : IGemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 8;

    // Not measured with software prefetch (no AVX2-only or ARM host here): plain Run.
    public static void RunPrefetching(int kc, float* a, float* b, float* c, nint ldc, float beta, float* nextB) => Run(kc, a, b, c, ldc, beta);

    // No smaller-row variants: an edge sliver runs the full tile.
    public static int RowsFor(int rows) => MR;

    public static void RunRows(int rows, int kc, float* a, float* b, float* c, nint ldc, float beta) => Run(kc, a, b, c, ldc, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        Vector128<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default,
            c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector128<float> av;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b);
            Vector128<float> b1 = Vector128.Load(b + 4);
            av = Vector128.Create(a[0]);
            c0a += av * b0;
            c0b += av * b1;
            av = Vector128.Create(a[1]);
            c1a += av * b0;
            c1b += av * b1;
            av = Vector128.Create(a[2]);
            c2a += av * b0;
            c2b += av * b1;
            av = Vector128.Create(a[3]);
            c3a += av * b0;
            c3b += av * b1;
            av = Vector128.Create(a[4]);
            c4a += av * b0;
            c4b += av * b1;
            av = Vector128.Create(a[5]);
            c5a += av * b0;
            c5b += av * b1;
            a += 6;
            b += 8;
        }
        if (beta == 0)
        {
            Vector128.Store(c0a, c + 0 * ldc); Vector128.Store(c0b, c + 0 * ldc + 4);
            Vector128.Store(c1a, c + 1 * ldc); Vector128.Store(c1b, c + 1 * ldc + 4);
            Vector128.Store(c2a, c + 2 * ldc); Vector128.Store(c2b, c + 2 * ldc + 4);
            Vector128.Store(c3a, c + 3 * ldc); Vector128.Store(c3b, c + 3 * ldc + 4);
            Vector128.Store(c4a, c + 4 * ldc); Vector128.Store(c4b, c + 4 * ldc + 4);
            Vector128.Store(c5a, c + 5 * ldc); Vector128.Store(c5b, c + 5 * ldc + 4);
        }
        else
        {
            var bv = Vector128.Create(beta);
            Update(c0a, c0b, c + 0 * ldc, bv);
            Update(c1a, c1b, c + 1 * ldc, bv);
            Update(c2a, c2b, c + 2 * ldc, bv);
            Update(c3a, c3b, c + 3 * ldc, bv);
            Update(c4a, c4b, c + 4 * ldc, bv);
            Update(c5a, c5b, c + 5 * ldc, bv);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(Vector128<float> lo, Vector128<float> hi, float* c, Vector128<float> beta)
    {
        Vector128.Store(lo + Vector128.Load(c) * beta, c);
        Vector128.Store(hi + Vector128.Load(c + 4) * beta, c + 4);
    }
}
