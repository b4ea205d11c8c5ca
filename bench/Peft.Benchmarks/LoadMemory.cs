using System.Diagnostics;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Benchmarks;

/// <summary>
/// Peak memory of loading a checkpoint against its file size:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- load-memory [folder]</c>. Writes a
/// gpt2-small-shaped float32 checkpoint (random weights) to the folder once, then loads it in a
/// fresh child process (so nothing of the writer counts) and reports that process's peak RSS,
/// its RSS before and after loading, and the load time.
/// </summary>
internal static class LoadMemory
{
    public static void Run(string[] args)
    {
        if (args.Length > 2 && args[1] == "read")
        {
            Read(args[2]);
            return;
        }
        string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "peft-load-memory-gpt2-small");
        Shared.Gpt2SmallFolder.Ensure(folder);
        long fileBytes = new FileInfo(Path.Combine(folder, "model.safetensors")).Length;
        Console.WriteLine($"checkpoint {folder}: model.safetensors {fileBytes / 1048576.0:F0} MiB");
        for (int run = 0; run < 3; run++)
        {
            // Same executable, fresh process: only the loading counts.
            var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["load-memory", "read", folder]) { RedirectStandardOutput = true })!;
            string line = child.StandardOutput.ReadToEnd().Trim();
            child.WaitForExit();
            if (child.ExitCode != 0) throw new InvalidOperationException($"The loading process failed ({child.ExitCode}): {line}");
            long peak = long.Parse(line.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"  run {run + 1}: peak RSS / file size = {peak / (double)fileBytes:F2}; " +
                $"{line.Substring(line.IndexOf(' ', StringComparison.Ordinal) + 1)}");
        }
    }

    private static void Read(string folder)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;
        var clock = Stopwatch.StartNew();
        var model = ModelLoader.LoadCausal(folder);
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        long after = process.WorkingSet64, peak = process.PeakWorkingSet64;
        long parameterBytes = model.Parameters.ResidentBytes;
        Console.WriteLine($"{peak} peak RSS {peak / 1048576.0:F0} MiB, RSS before load {before / 1048576.0:F0} MiB, after {after / 1048576.0:F0} MiB, " +
            $"parameters {parameterBytes / 1048576.0:F0} MiB, load {seconds:F2} s");
        GC.KeepAlive(model);
    }
}
