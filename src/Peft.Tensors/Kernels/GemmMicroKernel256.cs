using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// AVX2/FMA micro-kernel: a 6×16 tile of C in 12 ymm accumulators, leaving 4 of the 16 ymm
/// registers for the two B vectors and the A broadcast.
/// </summary>
internal readonly unsafe struct GemmMicroKernel256 : IGemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;

    // Not measured with software prefetch (no AVX2-only or ARM host here): plain Run.
    public static void RunPrefetching(int kc, float* a, float* b, float* c, nint ldc, float beta, float* nextB) => Run(kc, a, b, c, ldc, beta);

    // No smaller-row variants: an edge sliver runs the full tile.
    public static int RowsFor(int rows) => MR;

    public static void RunRows(int rows, int kc, float* a, float* b, float* c, nint ldc, float beta) => Run(kc, a, b, c, ldc, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default,
            c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector256<float> av;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.LoadAligned(b);
            Vector256<float> b1 = Vector256.LoadAligned(b + 8);
            av = Vector256.Create(a[0]);
            c0a = Fma.MultiplyAdd(av, b0, c0a);
            c0b = Fma.MultiplyAdd(av, b1, c0b);
            av = Vector256.Create(a[1]);
            c1a = Fma.MultiplyAdd(av, b0, c1a);
            c1b = Fma.MultiplyAdd(av, b1, c1b);
            av = Vector256.Create(a[2]);
            c2a = Fma.MultiplyAdd(av, b0, c2a);
            c2b = Fma.MultiplyAdd(av, b1, c2b);
            av = Vector256.Create(a[3]);
            c3a = Fma.MultiplyAdd(av, b0, c3a);
            c3b = Fma.MultiplyAdd(av, b1, c3b);
            av = Vector256.Create(a[4]);
            c4a = Fma.MultiplyAdd(av, b0, c4a);
            c4b = Fma.MultiplyAdd(av, b1, c4b);
            av = Vector256.Create(a[5]);
            c5a = Fma.MultiplyAdd(av, b0, c5a);
            c5b = Fma.MultiplyAdd(av, b1, c5b);
            a += 6;
            b += 16;
        }
        if (beta == 0)
        {
            Vector256.Store(c0a, c + 0 * ldc); Vector256.Store(c0b, c + 0 * ldc + 8);
            Vector256.Store(c1a, c + 1 * ldc); Vector256.Store(c1b, c + 1 * ldc + 8);
            Vector256.Store(c2a, c + 2 * ldc); Vector256.Store(c2b, c + 2 * ldc + 8);
            Vector256.Store(c3a, c + 3 * ldc); Vector256.Store(c3b, c + 3 * ldc + 8);
            Vector256.Store(c4a, c + 4 * ldc); Vector256.Store(c4b, c + 4 * ldc + 8);
            Vector256.Store(c5a, c + 5 * ldc); Vector256.Store(c5b, c + 5 * ldc + 8);
        }
        else
        {
            var bv = Vector256.Create(beta);
            Update(c0a, c0b, c + 0 * ldc, bv);
            Update(c1a, c1b, c + 1 * ldc, bv);
            Update(c2a, c2b, c + 2 * ldc, bv);
            Update(c3a, c3b, c + 3 * ldc, bv);
            Update(c4a, c4b, c + 4 * ldc, bv);
            Update(c5a, c5b, c + 5 * ldc, bv);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(Vector256<float> lo, Vector256<float> hi, float* c, Vector256<float> beta)
    {
        Vector256.Store(Fma.MultiplyAdd(Vector256.Load(c), beta, lo), c);
        Vector256.Store(Fma.MultiplyAdd(Vector256.Load(c + 8), beta, hi), c + 8);
    }
}
