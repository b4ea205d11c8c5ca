using System.Diagnostics;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>A fast stopwatch sweep of GEMM shapes (best of several runs) for tuning; BenchmarkDotNet gives the recorded figures.</summary>
internal static class QuickGemm
{
    public static void Run()
    {
        (int M, int N, int K)[] shapes = [(1024, 1024, 1024), (512, 768, 768), (512, 3072, 768), (512, 768, 3072), (128, 768, 768), (1, 768, 768), (8, 3072, 768)];
        foreach (int threads in new[] { 1, 2 })
        {
            WorkerPool.SetMaxDegree(threads);
            OpenBlas.SetThreads(threads);
            foreach (var (m, n, k) in shapes)
                foreach (bool tb in new[] { true, false })
                {
                    var r = new Random(1);
                    var a = Enumerable.Range(0, m * k).Select(_ => (float)r.NextDouble()).ToArray();
                    var b = Enumerable.Range(0, n * k).Select(_ => (float)r.NextDouble()).ToArray();
                    var c = new float[m * n];
                    double ours = Best(() => Gemm.Multiply(false, tb, m, n, k, 1f, a, k, b, tb ? k : n, 0f, c, n));
                    double blas = Best(() => OpenBlas.Sgemm(false, tb, m, n, k, a, k, b, tb ? k : n, c, n));
                    double flops = 2.0 * m * n * k;
                    Console.WriteLine($"threads {threads} {m,5}x{n,5}x{k,5} {(tb ? "x·Wᵀ" : "x·W ")}  ours {flops / ours / 1e9,7:F1} GFLOP/s  openblas {flops / blas / 1e9,7:F1}  ratio {blas / ours,5:F2}");
                }
        }
    }

    private static double Best(Action action)
    {
        action();
        double best = double.MaxValue;
        var sw = new Stopwatch();
        for (int rep = 0; rep < 7; rep++)
        {
            sw.Restart();
            int inner = 0;
            do { action(); inner++; } while (sw.Elapsed.TotalMilliseconds < 50);
            best = Math.Min(best, sw.Elapsed.TotalSeconds / inner);
        }
        return best;
    }
}
