using System.Diagnostics;
using System.Globalization;

namespace Peft.Benchmarks;

/// <summary>
/// Peak resident memory and step time of one method in a fresh process (peak RSS is per process):
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- train-memory prefix [steps] [checkpointing] [chunked] [int8|nf4] [phases]</c>
/// (<c>phases</c> then times forward and backward separately; <c>train-memory gemm</c> times the step's products).
/// </summary>
internal static class PeftTrainingMemory
{
    /// <summary>GFLOP/s of the products a gpt2-small step at batch 4 × 128 runs (forward x·Wᵀ, backward dY·W).</summary>
    private static void GemmShapes()
    {
        foreach (var (n, k) in new[] { (2304, 768), (768, 768), (3072, 768), (768, 3072), (50257, 768) })
        {
            const int m = 512;
            var a = new float[m * Math.Max(n, k)];
            var w = new float[n * k];
            var c = new float[m * Math.Max(n, k)];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < w.Length; i++) w[i] = (i % 7) * 0.01f;
            for (int i = 0; i < a.Length; i++) a[i] = (i % 5) * 0.01f;
            double Time(Action run)
            {
                run();
                var best = double.MaxValue;
                for (int r = 0; r < 5; r++)
                {
                    var clock = Stopwatch.StartNew();
                    run();
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                return 2.0 * m * n * k / best / 1e9;
            }
            double forward = Time(() => Peft.Tensors.Kernels.Gemm.Multiply(false, true, m, n, k, 1f, a, k, w, k, 0f, c, n));
            double backward = Time(() => Peft.Tensors.Kernels.Gemm.Multiply(false, false, m, k, n, 1f, a, n, w, k, 0f, c, k));
            Console.WriteLine($"W [{n}, {k}]: forward x·Wᵀ (M {m}, N {n}, K {k}) {forward:F0} GFLOP/s; " +
                $"backward dY·W (M {m}, N {k}, K {n}) {backward:F0} GFLOP/s");
        }
    }

    public static void Run(string[] args)
    {
        if (args.Length > 1 && args[1] == "gemm")
        {
            GemmShapes();
            return;
        }
        string method = args.Length > 1 ? args[1] : "prefix";
        int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        bool checkpointing = args.Contains("checkpointing");
        bool chunked = args.Contains("chunked");
        var format = args.Contains("int8") ? Peft.Tensors.Quantization.QuantizationFormat.Int8
            : args.Contains("nf4") ? Peft.Tensors.Quantization.QuantizationFormat.Nf4 : Peft.Tensors.Quantization.QuantizationFormat.None;
        var step = new PeftTrainingStep(method, checkpointing, chunked, format);
        long afterLoad = Process.GetCurrentProcess().WorkingSet64;
        step.Step();
        step.Step();
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            step.Step();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine($"{method}{(checkpointing ? " +checkpointing" : "")}{(chunked ? " +chunked loss" : "")}" +
            $"{(format != Peft.Tensors.Quantization.QuantizationFormat.None ? " on " + format : "")}: trainable {step.TrainableParameters:N0}, " +
            $"step median {times[times.Count / 2]:F3} s (min {times[0]:F3}), " +
            $"peak RSS {process.PeakWorkingSet64 / 1048576.0:F0} MiB (after model build {afterLoad / 1048576.0:F0} MiB)");
        if (!args.Contains("phases")) return;
        for (int i = 0; i < 2; i++)
        {
            var (inference, forward, backward) = step.Phases();
            var (body, full) = step.ForwardSplit();
            Console.WriteLine($"  phases: forward without tape {inference:F3} s, with tape {forward:F3} s, backward {backward:F3} s; " +
                $"without tape: layers {body:F3} s, layers + head + loss {full:F3} s");
        }
    }
}
