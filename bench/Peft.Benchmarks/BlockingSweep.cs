using Peft.Benchmarks.Shared;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// The AVX-512 GEMM under a grid of cache blockings (Kc × Mc) on issue 19's shapes, to check or re-tune
/// <see cref="GemmBlocking.Choose"/> on a new host in minutes:
/// <c>dotnet bench/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll blocking [threads, e.g. 1,2] [Kc list] [Mc list] [rounds] [Nc list]</c>
/// (Nc: the chosen one unless listed).
/// Prints every cell's GFLOP/s (best of the rounds, forms packed / x·W / x·Wᵀ) and, per blocking, the geometric mean
/// of its cells against the start-up choice's.
/// </summary>
internal static class BlockingSweep
{
    public static void Run(string[] args)
    {
        int[] threadCounts = args.Length > 1 ? Ints(args[1]) : [1, 2];
        int[] kcs = args.Length > 2 ? Ints(args[2]) : [256, 320, 384, 448, 512, 576, 640];
        int[] mcs = args.Length > 3 ? Ints(args[3]) : [96, 132, 144, 192, 240, 288];
        int rounds = args.Length > 4 ? int.Parse(args[4]) : 2;
        var chosen = GemmBlocking.For(GemmIsa.Avx512);
        int[] ncs = args.Length > 5 ? Ints(args[5]) : [chosen.Nc];
        Console.WriteLine($"CPU: {QuickCheck.CpuModel()}; caches: {CpuCaches.Current}; chosen: Kc {chosen.Kc}, Mc {chosen.Mc}, Nc {chosen.Nc}");
        var grid = (from kc in kcs from mc in mcs from nc in ncs select new GemmBlocking(kc, mc, nc)).ToList();
        if (!grid.Contains(chosen)) grid.Insert(0, chosen);
        var shapes = GemmSweep.Shapes.Where(GemmSweep.IsBig).ToArray();

        foreach (int threads in threadCounts)
        {
            WorkerPool.SetMaxDegree(threads);
            // best[blocking][shape, form]
            var best = grid.ToDictionary(b => b, _ => new double[shapes.Length, 3]);
            for (int round = 0; round < rounds; round++)
                foreach (var blocking in grid)
                {
                    GemmBlocking.Override = blocking;
                    for (int s = 0; s < shapes.Length; s++)
                    {
                        var cells = Measure(shapes[s]);
                        for (int f = 0; f < 3; f++) best[blocking][s, f] = Math.Max(best[blocking][s, f], cells[f]);
                    }
                }
            GemmBlocking.Override = null;

            Console.WriteLine($"--- threads {threads} (GFLOP/s packed / x·W / x·Wᵀ; last column: geometric mean against the chosen {chosen})");
            Console.WriteLine("| Kc | Mc | Nc | " + string.Join(" | ", shapes.Select(s => $"{s.M} {s.K} {s.N}")) + " | vs chosen |");
            Console.WriteLine("|---:|---:|---:|" + string.Concat(Enumerable.Repeat("---|", shapes.Length)) + "---:|");
            foreach (var blocking in grid.OrderByDescending(b => GeoMeanRatio(best[b], best[chosen])))
            {
                var cells = best[blocking];
                var row = Enumerable.Range(0, shapes.Length).Select(s => $"{cells[s, 0]:F0} / {cells[s, 1]:F0} / {cells[s, 2]:F0}");
                Console.WriteLine($"| {blocking.Kc} | {blocking.Mc} | {blocking.Nc} | {string.Join(" | ", row)} | {GeoMeanRatio(cells, best[chosen]):F3} |");
            }
        }
    }

    private static double GeoMeanRatio(double[,] cells, double[,] reference)
    {
        double logSum = 0;
        int count = 0;
        for (int s = 0; s < cells.GetLength(0); s++)
            for (int f = 0; f < 3; f++, count++) logSum += Math.Log(cells[s, f] / reference[s, f]);
        return Math.Exp(logSum / count);
    }

    private static double[] Measure((int M, int K, int N) shape)
    {
        var (m, k, n) = shape;
        var a = QuickCheck.Fill(m * k);
        var b = QuickCheck.Fill(k * n);
        var c = new float[m * n];
        var packed = PackedMatrix.Pack(true, k, n, b, k);
        double flops = 2.0 * m * n * k;
        return
        [
            GemmSweep.BestGflops(() => Gemm.Multiply(false, m, 1f, a, k, packed, 0f, c, n), flops),
            GemmSweep.BestGflops(() => Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n), flops),
            GemmSweep.BestGflops(() => Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n), flops),
        ];
    }

    private static int[] Ints(string list) => [.. list.Split(',').Select(int.Parse)];
}
