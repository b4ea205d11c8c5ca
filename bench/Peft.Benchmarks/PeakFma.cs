using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// This CPU's peak single-precision FMA rate: a register-only Vector512 loop with 10 independent
/// accumulator chains (enough to cover FMA latency × the two FMA pipes), on 1 or 2 threads.
/// </summary>
internal static class PeakFma
{
    /// <summary>Iterations of the FMA loop per thread per call.</summary>
    public const int Iterations = 1 << 20;

    /// <summary>Floating-point operations one thread does per call: 10 FMAs × 16 lanes × 2.</summary>
    public const double FlopsPerThread = Iterations * 10.0 * 16 * 2;

    private static readonly PeakTask s_task = new();

    /// <summary>Runs the loop on <paramref name="threads"/> threads through the worker pool.</summary>
    public static void Run(int threads) => WorkerPool.Run(s_task, threads);

    /// <summary>Best measured GFLOP/s on the given number of threads.</summary>
    public static double Measure(int threads)
    {
        Run(threads);
        double best = double.MaxValue;
        var sw = new Stopwatch();
        for (int i = 0; i < 20; i++)
        {
            sw.Restart();
            Run(threads);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return FlopsPerThread * threads / best / 1e9;
    }

    /// <summary>The register-only loop; returns a sum so the JIT cannot drop it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Loop(int iterations)
    {
        if (!Avx512F.IsSupported) return 0f;
        var m = Vector512.Create(0.999f);
        var add = Vector512.Create(1e-3f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, add);
            a1 = Avx512F.FusedMultiplyAdd(a1, m, add);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, add);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, add);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, add);
            a5 = Avx512F.FusedMultiplyAdd(a5, m, add);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, add);
            a7 = Avx512F.FusedMultiplyAdd(a7, m, add);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, add);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, add);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
    }

    private sealed class PeakTask : ParallelTask
    {
        public float Sink;

        public override void Execute(int index) => Sink += Loop(Iterations);
    }
}
