using System.Diagnostics;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// A fast Stopwatch sweep (best of several runs) for tuning between full BenchmarkDotNet runs:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- quick [small-M band] [small|big] [threads, e.g. 1,2]</c>
/// (big alone runs one thread; bench/gemm-compare.sh runs it beside libtorch's MKL).
/// </summary>
internal static unsafe class QuickCheck
{
    public static void Run(string[] args)
    {
        if (args.Length > 1) GemmTask.SmallMBand = int.Parse(args[1]);
        bool smallOnly = args.Length > 2 && args[2] == "small";
        bool bigOnly = args.Length > 2 && args[2] == "big";
        OpenBlas.Initialize(1);
        Console.WriteLine($"OpenBLAS core: {OpenBlas.CoreName}");
        int[] threadCounts = args.Length > 3 ? [.. args[3].Split(',').Select(int.Parse)] : bigOnly ? [1] : [1, 2];
        Console.WriteLine($"CPU: {CpuModel()}");
        foreach (int threads in threadCounts)
        {
            WorkerPool.SetMaxDegree(threads);
            OpenBlas.Initialize(threads);
            Console.WriteLine($"--- threads {threads}: peak {PeakFma.Measure(threads):F0} GFLOP/s");
            foreach (var (m, k, n) in new[] { (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
                (128, 768, 768), (128, 768, 3072), (128, 3072, 768), (512, 768, 768), (512, 768, 3072), (512, 3072, 768),
                (1, 768, 768), (1, 768, 3072), (1, 3072, 768), (8, 768, 768), (8, 768, 3072), (8, 3072, 768) })
            {
                if (smallOnly && m > 8) continue;
                if (bigOnly && (m <= 8 || (long)m * k * n < 1L << 28 && m != 128)) continue;
                var a = Fill(m * k);
                var b = Fill(k * n);
                var c = new float[m * n];
                var packed = PackedMatrix.Pack(true, k, n, b, k);
                double flops = 2.0 * m * n * k;
                double nn = Best(() => Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n), flops);
                double nt = Best(() => Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n), flops);
                double pk = Best(() => Gemm.Multiply(false, m, 1f, a, k, packed, 0f, c, n), flops);
                double onn, ont;
                fixed (float* pa = a, pb = b, pc = c)
                {
                    float* xa = pa, xb = pb, xc = pc;
                    onn = Best(() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.NoTrans, m, n, k, 1f, xa, k, xb, n, 0f, xc, n), flops);
                    ont = Best(() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.Trans, m, n, k, 1f, xa, k, xb, k, 0f, xc, n), flops);
                }
                Console.WriteLine($"M={m,5} K={k,5} N={n,5}  x·W {nn,6:F1}  x·Wᵀ {nt,6:F1}  packed {pk,6:F1}   " +
                    $"OpenBLAS x·W {onn,6:F1}  x·Wᵀ {ont,6:F1}");
            }
        }
    }

    /// <summary>The CPU's model name (/proc/cpuinfo), for the table's record.</summary>
    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";

    private static float[] Fill(int length)
    {
        var rng = new Random(1);
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble() - 0.5f;
        return v;
    }

    /// <summary>Best GFLOP/s over several timed batches of about 20 ms each.</summary>
    internal static double Best(Action action, double flops)
    {
        action();
        int reps = 1;
        var sw = Stopwatch.StartNew();
        action();
        double one = sw.Elapsed.TotalSeconds;
        reps = (int)Math.Clamp(0.02 / Math.Max(one, 1e-7), 1, 100000);
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
