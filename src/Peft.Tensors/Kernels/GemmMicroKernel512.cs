using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// AVX-512 micro-kernel: a 12×32 tile of C held in 24 zmm accumulators (of 32), two B vectors and
/// one broadcast A value per step, so each step issues 24 independent FMAs against 14 loads.
/// </summary>
internal readonly unsafe struct GemmMicroKernel512 : IGemmMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;

    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float beta) => Run<Full>(kc, a, b, c, ldc, beta, null);

    // Two prefetches per step (the 128 bytes of the next sliver's step) keep DRAM busy while this sliver's A passes
    // run from cache: with few rows of A a cold B sliver otherwise arrives only on the first pass (Zen 4, 48 packed
    // gpt2-small weights beyond L3, 2 threads: M = 32 159-169 -> 173-178 GFLOP/s, M = 64 163-173 -> 181-190).
    public static void RunPrefetching(int kc, float* a, float* b, float* c, nint ldc, float beta, float* nextB) =>
        Run<FullPrefetching>(kc, a, b, c, ldc, beta, nextB);

    // An edge sliver of 4 or 8 rows costs 4 or 8 rows of FMAs instead of 12 (M = 32 is 12 + 12 + 8 rows).
    public static int RowsFor(int rows) => rows <= 4 ? 4 : rows <= 8 ? 8 : MR;

    public static void RunRows(int rows, int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        switch (rows)
        {
            case 4: Run<Rows4>(kc, a, b, c, ldc, beta, null); break;
            case 8: Run<Rows8>(kc, a, b, c, ldc, beta, null); break;
            default: Run<Full>(kc, a, b, c, ldc, beta, null); break;
        }
    }

    /// <summary>
    /// The first <c>TShape.Rows</c> rows of the tile (A keeps its 12-float steps); the shape is a constant per
    /// specialization, so the JIT drops the unused rows' accumulators and the prefetch branch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TShape>(int kc, float* a, float* b, float* c, nint ldc, float beta, float* nextB)
        where TShape : struct, IKernelShape
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default,
            c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default,
            c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default,
            c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        Vector512<float> av;
        // Start fetching the C tile now: it is read/written only after the k loop, and for large C
        // (beyond L2/L3) those misses would otherwise stall the end of every call.
        Sse.Prefetch0(c + 0 * ldc); Sse.Prefetch0(c + 0 * ldc + 31);
        Sse.Prefetch0(c + 1 * ldc); Sse.Prefetch0(c + 1 * ldc + 31);
        Sse.Prefetch0(c + 2 * ldc); Sse.Prefetch0(c + 2 * ldc + 31);
        Sse.Prefetch0(c + 3 * ldc); Sse.Prefetch0(c + 3 * ldc + 31);
        if (TShape.Rows > 4)
        {
            Sse.Prefetch0(c + 4 * ldc); Sse.Prefetch0(c + 4 * ldc + 31);
            Sse.Prefetch0(c + 5 * ldc); Sse.Prefetch0(c + 5 * ldc + 31);
            Sse.Prefetch0(c + 6 * ldc); Sse.Prefetch0(c + 6 * ldc + 31);
            Sse.Prefetch0(c + 7 * ldc); Sse.Prefetch0(c + 7 * ldc + 31);
        }
        if (TShape.Rows > 8)
        {
            Sse.Prefetch0(c + 8 * ldc); Sse.Prefetch0(c + 8 * ldc + 31);
            Sse.Prefetch0(c + 9 * ldc); Sse.Prefetch0(c + 9 * ldc + 31);
            Sse.Prefetch0(c + 10 * ldc); Sse.Prefetch0(c + 10 * ldc + 31);
            Sse.Prefetch0(c + 11 * ldc); Sse.Prefetch0(c + 11 * ldc + 31);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.LoadAligned(b);
            Vector512<float> b1 = Vector512.LoadAligned(b + 16);
            av = Vector512.Create(a[0]);
            c0a = Avx512F.FusedMultiplyAdd(av, b0, c0a);
            c0b = Avx512F.FusedMultiplyAdd(av, b1, c0b);
            av = Vector512.Create(a[1]);
            c1a = Avx512F.FusedMultiplyAdd(av, b0, c1a);
            c1b = Avx512F.FusedMultiplyAdd(av, b1, c1b);
            av = Vector512.Create(a[2]);
            c2a = Avx512F.FusedMultiplyAdd(av, b0, c2a);
            c2b = Avx512F.FusedMultiplyAdd(av, b1, c2b);
            av = Vector512.Create(a[3]);
            c3a = Avx512F.FusedMultiplyAdd(av, b0, c3a);
            c3b = Avx512F.FusedMultiplyAdd(av, b1, c3b);
            if (TShape.Rows > 4)
            {
                av = Vector512.Create(a[4]);
                c4a = Avx512F.FusedMultiplyAdd(av, b0, c4a);
                c4b = Avx512F.FusedMultiplyAdd(av, b1, c4b);
                av = Vector512.Create(a[5]);
                c5a = Avx512F.FusedMultiplyAdd(av, b0, c5a);
                c5b = Avx512F.FusedMultiplyAdd(av, b1, c5b);
                av = Vector512.Create(a[6]);
                c6a = Avx512F.FusedMultiplyAdd(av, b0, c6a);
                c6b = Avx512F.FusedMultiplyAdd(av, b1, c6b);
                av = Vector512.Create(a[7]);
                c7a = Avx512F.FusedMultiplyAdd(av, b0, c7a);
                c7b = Avx512F.FusedMultiplyAdd(av, b1, c7b);
            }
            if (TShape.Rows > 8)
            {
                av = Vector512.Create(a[8]);
                c8a = Avx512F.FusedMultiplyAdd(av, b0, c8a);
                c8b = Avx512F.FusedMultiplyAdd(av, b1, c8b);
                av = Vector512.Create(a[9]);
                c9a = Avx512F.FusedMultiplyAdd(av, b0, c9a);
                c9b = Avx512F.FusedMultiplyAdd(av, b1, c9b);
                av = Vector512.Create(a[10]);
                c10a = Avx512F.FusedMultiplyAdd(av, b0, c10a);
                c10b = Avx512F.FusedMultiplyAdd(av, b1, c10b);
                av = Vector512.Create(a[11]);
                c11a = Avx512F.FusedMultiplyAdd(av, b0, c11a);
                c11b = Avx512F.FusedMultiplyAdd(av, b1, c11b);
            }
            if (TShape.PrefetchB)
            {
                Sse.Prefetch1(nextB);
                Sse.Prefetch1(nextB + 16);
                nextB += 32;
            }
            a += 12;
            b += 32;
        }
        if (beta == 0)
        {
            Vector512.Store(c0a, c + 0 * ldc); Vector512.Store(c0b, c + 0 * ldc + 16);
            Vector512.Store(c1a, c + 1 * ldc); Vector512.Store(c1b, c + 1 * ldc + 16);
            Vector512.Store(c2a, c + 2 * ldc); Vector512.Store(c2b, c + 2 * ldc + 16);
            Vector512.Store(c3a, c + 3 * ldc); Vector512.Store(c3b, c + 3 * ldc + 16);
            if (TShape.Rows > 4)
            {
                Vector512.Store(c4a, c + 4 * ldc); Vector512.Store(c4b, c + 4 * ldc + 16);
                Vector512.Store(c5a, c + 5 * ldc); Vector512.Store(c5b, c + 5 * ldc + 16);
                Vector512.Store(c6a, c + 6 * ldc); Vector512.Store(c6b, c + 6 * ldc + 16);
                Vector512.Store(c7a, c + 7 * ldc); Vector512.Store(c7b, c + 7 * ldc + 16);
            }
            if (TShape.Rows > 8)
            {
                Vector512.Store(c8a, c + 8 * ldc); Vector512.Store(c8b, c + 8 * ldc + 16);
                Vector512.Store(c9a, c + 9 * ldc); Vector512.Store(c9b, c + 9 * ldc + 16);
                Vector512.Store(c10a, c + 10 * ldc); Vector512.Store(c10b, c + 10 * ldc + 16);
                Vector512.Store(c11a, c + 11 * ldc); Vector512.Store(c11b, c + 11 * ldc + 16);
            }
        }
        else
        {
            var bv = Vector512.Create(beta);
            Update(c0a, c0b, c + 0 * ldc, bv);
            Update(c1a, c1b, c + 1 * ldc, bv);
            Update(c2a, c2b, c + 2 * ldc, bv);
            Update(c3a, c3b, c + 3 * ldc, bv);
            if (TShape.Rows > 4)
            {
                Update(c4a, c4b, c + 4 * ldc, bv);
                Update(c5a, c5b, c + 5 * ldc, bv);
                Update(c6a, c6b, c + 6 * ldc, bv);
                Update(c7a, c7b, c + 7 * ldc, bv);
            }
            if (TShape.Rows > 8)
            {
                Update(c8a, c8b, c + 8 * ldc, bv);
                Update(c9a, c9b, c + 9 * ldc, bv);
                Update(c10a, c10b, c + 10 * ldc, bv);
                Update(c11a, c11b, c + 11 * ldc, bv);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(Vector512<float> lo, Vector512<float> hi, float* c, Vector512<float> beta)
    {
        Vector512.Store(Avx512F.FusedMultiplyAdd(Vector512.Load(c), beta, lo), c);
        Vector512.Store(Avx512F.FusedMultiplyAdd(Vector512.Load(c + 16), beta, hi), c + 16);
    }

    /// <summary>Rows a specialization computes and whether its k loop prefetches a second B sliver.</summary>
    private interface IKernelShape
    {
        static abstract int Rows { get; }

        static abstract bool PrefetchB { get; }
    }

    private readonly struct Full : IKernelShape
    {
        public static int Rows => 12;

        public static bool PrefetchB => false;
    }

    private readonly struct FullPrefetching : IKernelShape
    {
        public static int Rows => 12;

        public static bool PrefetchB => true;
    }

    private readonly struct Rows8 : IKernelShape
    {
        public static int Rows => 8;

        public static bool PrefetchB => false;
    }

    private readonly struct Rows4 : IKernelShape
    {
        public static int Rows => 4;

        public static bool PrefetchB => false;
    }
}
