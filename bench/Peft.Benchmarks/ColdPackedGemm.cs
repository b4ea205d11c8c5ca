using System.Diagnostics;
using System.Globalization;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// GFLOP/s of products with pre-packed weights that do not fit in cache, as a short prefill meets them:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- packed-cold [rows...] [--threads N]</c> multiplies
/// [rows, in] activations by the 48 packed block weights of gpt2-small (12 layers of 768×2304, 768×768, 768×3072 and
/// 3072×768: 340 MB, ten times a 32 MB L3) one after another; best of 7 sweeps, three times per row count.
/// </summary>
internal static class ColdPackedGemm
{
    public static void Run(string[] args)
    {
        int threads = 2;
        var rows = new List<int>();
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--threads" && i + 1 < args.Length) threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else rows.Add(int.Parse(args[i], CultureInfo.InvariantCulture));
        }
        if (rows.Count == 0) rows.AddRange([20, 32, 64, 128]);
        WorkerPool.SetMaxDegree(threads);
        var random = new Random(1);
        var weights = new List<(PackedMatrix Packed, int In, int Out)>();
        for (int layer = 0; layer < 12; layer++)
        {
            foreach (var (inF, outF) in new[] { (768, 2304), (768, 768), (768, 3072), (3072, 768) })
            {
                var w = new float[inF * outF];
                for (int i = 0; i < w.Length; i++) w[i] = (float)random.NextDouble() - 0.5f;
                weights.Add((PackedMatrix.Pack(true, inF, outF, w, inF), inF, outF));
            }
        }
        foreach (int m in rows)
        {
            var a = new float[m * 3072];
            var c = new float[m * 3072];
            for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble();
            double flops = weights.Sum(w => 2.0 * m * w.In * w.Out);
            var rates = new List<double>();
            for (int repeat = 0; repeat < 3; repeat++)
            {
                double best = double.MaxValue;
                for (int sweep = 0; sweep < 7; sweep++)
                {
                    var clock = Stopwatch.StartNew();
                    foreach (var (packed, inF, outF) in weights) Gemm.Multiply(false, m, 1f, a, inF, packed, 0f, c, outF);
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                rates.Add(flops / best / 1e9);
            }
            Console.WriteLine($"rows {m}, {threads} threads, 48 packed gpt2-small weights: " +
                $"{string.Join(" / ", rates.Select(r => r.ToString("F1", CultureInfo.InvariantCulture)))} GFLOP/s");
        }
    }
}
