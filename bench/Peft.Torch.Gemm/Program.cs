using System.Globalization;
using Peft.Benchmarks.Shared;
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
    foreach (var (m, k, n) in GemmSweep.Shapes.Where(s => all || GemmSweep.IsBig(s)))
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var a = torch.rand(m, k) - 0.5f;   // x [M, K]
        var b = torch.rand(k, n) - 0.5f;   // W [K, N]
        var w = torch.rand(n, k) - 0.5f;   // a linear layer's weight [N, K]: x·Wᵀ
        var wt = w.t();
        var c = torch.empty(m, n);
        double flops = 2.0 * m * n * k;
        double nn = GemmSweep.BestGflops(() => c.addmm_(a, b, 0f, 1f), flops);
        double nt = GemmSweep.BestGflops(() => c.addmm_(a, wt, 0f, 1f), flops);
        Console.WriteLine($"M={m,5} K={k,5} N={n,5}  torch.mm x·W {nn,6:F1}  x·Wᵀ {nt,6:F1}");
    }
}
