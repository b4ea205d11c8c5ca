using System.Diagnostics;
using System.Globalization;

namespace Peft.Benchmarks;

/// <summary>
/// Peak resident memory and step time of one method in a fresh process (peak RSS is per process):
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- train-memory prefix [steps] [checkpointing]</c>.
/// </summary>
internal static class PeftTrainingMemory
{
    public static void Run(string[] args)
    {
        string method = args.Length > 1 ? args[1] : "prefix";
        int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        bool checkpointing = args.Length > 3 && args[3] == "checkpointing";
        var step = new PeftTrainingStep(method, checkpointing);
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
        Console.WriteLine($"{method}{(checkpointing ? " +checkpointing" : "")}: trainable {step.TrainableParameters:N0}, step median {times[times.Count / 2]:F3} s (min {times[0]:F3}), " +
            $"peak RSS {process.PeakWorkingSet64 / 1048576.0:F0} MiB (after model build {afterLoad / 1048576.0:F0} MiB)");
    }
}
