using System.Diagnostics;

namespace Peft.Benchmarks.Shared;

/// <summary>
/// The GEMM table's shapes and its Stopwatch measure, shared by the quick sweep (ours and OpenBLAS) and the MKL column
/// (bench/Peft.Torch.Gemm), so the two sides of bench/gemm-compare.sh time the same shapes the same way (linked source).
/// </summary>
internal static class GemmSweep
{
    /// <summary>Every shape (M, K, N): square ones, gpt2-small's linear layers at 128 and 512 rows, and decoding's 1 and 8 rows.</summary>
    public static readonly (int M, int K, int N)[] Shapes =
    [
        (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
        (128, 768, 768), (128, 768, 3072), (128, 3072, 768), (512, 768, 768), (512, 768, 3072), (512, 3072, 768),
        (1, 768, 768), (1, 768, 3072), (1, 3072, 768), (8, 768, 768), (8, 768, 3072), (8, 3072, 768),
    ];

    /// <summary>The shapes of issue 19's table ("big"): at least 2^28 multiply-adds, or 128 rows.</summary>
    public static bool IsBig((int M, int K, int N) s) => s.M > 8 && ((long)s.M * s.K * s.N >= 1L << 28 || s.M == 128);

    /// <summary>Best GFLOP/s over seven timed batches of about 20 ms each, after a warm-up call.</summary>
    public static double BestGflops(Action action, double flops)
    {
        action();
        var sw = Stopwatch.StartNew();
        action();
        double one = sw.Elapsed.TotalSeconds;
        int reps = (int)Math.Clamp(0.02 / Math.Max(one, 1e-7), 1, 100000);
        double best = double.MaxValue;
        for (int t = 0; t < 7; t++)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++) action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return flops / best / 1e9;
    }
}
