using System.Diagnostics;
using System.Globalization;
using TorchSharp;

// torch.mm (MKL sgemm inside libtorch 2.10) on the GEMM table's shapes, timed as bench/Peft.Benchmarks' quick sweep times
// ours and OpenBLAS (best of seven ~20 ms batches), one line per shape in the same format:
// dotnet bench/Peft.Torch.Gemm/bin/Release/net10.0/Peft.Torch.Gemm.dll [threads, e.g. 1,2] [big|all]
var threadCounts = (args.Length > 0 ? args[0] : "1,2").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
bool all = args.Length > 1 && args[1] == "all";
Console.WriteLine($"libtorch (TorchSharp {typeof(torch).Assembly.GetName().Version}), MKL sgemm through torch.mm; products written in place (addmm_, beta 0)");
foreach (int threads in threadCounts)
{
    torch.set_num_threads(threads);
    Console.WriteLine($"--- threads {threads} (torch reports {torch.get_num_threads()})");
    foreach (var (m, k, n) in GemmShapes.For(all))
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var a = torch.rand(m, k) - 0.5f;   // x [M, K]
        var b = torch.rand(k, n) - 0.5f;   // W [K, N]
        var w = torch.rand(n, k) - 0.5f;   // a linear layer's weight [N, K]: x·Wᵀ
        var wt = w.t();
        var c = torch.empty(m, n);
        double flops = 2.0 * m * n * k;
        double nn = Best(() => c.addmm_(a, b, 0f, 1f), flops);
        double nt = Best(() => c.addmm_(a, wt, 0f, 1f), flops);
        Console.WriteLine($"M={m,5} K={k,5} N={n,5}  torch.mm x·W {nn,6:F1}  x·Wᵀ {nt,6:F1}");
    }
}

static double Best(Action action, double flops)
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

/// <summary>The shapes of the GEMM table (issue 19): square ones and gpt2-small's linear layers at 128 and 512 rows.</summary>
internal static class GemmShapes
{
    public static IEnumerable<(int M, int K, int N)> For(bool all) =>
        new[] { (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (128, 768, 768), (128, 768, 3072), (128, 3072, 768),
            (512, 768, 768), (512, 768, 3072), (512, 3072, 768) }
        .Where(s => all || (long)s.Item1 * s.Item2 * s.Item3 >= 1L << 28 || s.Item1 == 128);
}
