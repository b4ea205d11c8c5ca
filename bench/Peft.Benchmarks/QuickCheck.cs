using Peft.Benchmarks.Shared;
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
        var blocking = GemmBlocking.For(GemmIsa.Avx512);
        Console.WriteLine($"Caches: {CpuCaches.Current}; AVX-512 blocking Kc {blocking.Kc}, Mc {blocking.Mc}, Nc {blocking.Nc}");
        foreach (int threads in threadCounts)
        {
            WorkerPool.SetMaxDegree(threads);
            OpenBlas.Initialize(threads);
            Console.WriteLine($"--- threads {threads}: peak {PeakFma.Measure(threads):F0} GFLOP/s");
            foreach (var (m, k, n) in GemmSweep.Shapes)
            {
                if (smallOnly && m > 8) continue;
                if (bigOnly && !GemmSweep.IsBig((m, k, n))) continue;
                var a = Fill(m * k);
                var b = Fill(k * n);
                var c = new float[m * n];
                var packed = PackedMatrix.Pack(true, k, n, b, k);
                double flops = 2.0 * m * n * k;
                double nn = GemmSweep.BestGflops(() => Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n), flops);
                double nt = GemmSweep.BestGflops(() => Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n), flops);
                double pk = GemmSweep.BestGflops(() => Gemm.Multiply(false, m, 1f, a, k, packed, 0f, c, n), flops);
                double onn, ont;
                fixed (float* pa = a, pb = b, pc = c)
                {
                    float* xa = pa, xb = pb, xc = pc;
                    onn = GemmSweep.BestGflops(() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.NoTrans, m, n, k, 1f, xa, k, xb, n, 0f, xc, n), flops);
                    ont = GemmSweep.BestGflops(() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.Trans, m, n, k, 1f, xa, k, xb, k, 0f, xc, n), flops);
                }
                Console.WriteLine($"M={m,5} K={k,5} N={n,5}  x·W {nn,6:F1}  x·Wᵀ {nt,6:F1}  packed {pk,6:F1}   " +
                    $"OpenBLAS x·W {onn,6:F1}  x·Wᵀ {ont,6:F1}");
            }
        }
    }

    /// <summary>The CPU's model name (/proc/cpuinfo), for the table's record.</summary>
    internal static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";

    /// <summary>Values in [-0.5, 0.5) from a fixed seed, so every sweep multiplies the same operands.</summary>
    internal static float[] Fill(int length)
    {
        var rng = new Random(1);
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble() - 0.5f;
        return v;
    }
}
