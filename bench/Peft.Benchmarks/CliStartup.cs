using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Peft.Benchmarks.Shared;
using Peft.Transformers.SafeTensors;

namespace Peft.Benchmarks;

/// <summary>
/// A fresh <c>peft generate</c> process, built several ways (issue 16: the CLI's first token), timed from the outside:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- cli-startup ROUNDS NAME=DIR [NAME=DIR...]</c>, each DIR a
/// published CLI (bench/cli-startup/run.sh publishes the variants and calls this). Every variant runs as built
/// (tiered compilation off, the CLI's runtimeconfig) and with <c>DOTNET_TieredCompilation=1</c>, on a gpt2-small-shaped
/// float32 folder (random weights), 16-token prompts, 32 new tokens greedy, batch 1 and 8; rounds alternate the variants
/// so a change in the machine's load falls on all of them. Per row, medians over the rounds: the process's wall time,
/// time to first token (wall time less the command's decode phase: process start, runtime start-up, argument parsing,
/// load and the prompt pass) and whole-run tokens/s (new tokens over wall time).
/// </summary>
internal static class CliStartup
{
    private const int PromptLength = 16, NewTokens = 32;

    public static void Run(string[] args)
    {
        if (args.Length < 3 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int rounds) || rounds < 1)
            throw new ArgumentException("usage: cli-startup ROUNDS NAME=PUBLISH_DIR [NAME=PUBLISH_DIR...]");
        var variants = args.Skip(2).Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Dll: Path.Combine(p[1], "peft.dll"))).ToList();
        foreach (var (name, dll) in variants)
            if (!File.Exists(dll)) throw new FileNotFoundException($"variant {name}: no peft.dll in the publish folder", dll);
        string folder = Path.Combine(Path.GetTempPath(), "peft-cli-startup-gpt2-small");
        Gpt2SmallFolder.Ensure(folder);
        int[] batches = [1, 8];
        foreach (int batch in batches)
        {
            var random = new Random(batch);
            int[] ids = [.. Enumerable.Range(0, batch * PromptLength).Select(_ => random.Next(50000))];
            SafeTensorsWriter.Write(Path.Combine(folder, $"inputs-{batch}.safetensors"),
                [new SafeTensorWriteEntry("input_ids", SafeTensorDType.I32, [batch, PromptLength], ids.SelectMany(BitConverter.GetBytes).ToArray())]);
        }
        var rows = new Dictionary<(string, bool, int), List<Sample>>();
        for (int round = 0; round < rounds; round++)
            foreach (int batch in batches)
                foreach (var (name, dll) in variants)
                    foreach (bool tiered in new[] { false, true })
                    {
                        var run = Once(dll, folder, batch, tiered);
                        if (!rows.TryGetValue((name, tiered, batch), out var list)) rows[(name, tiered, batch)] = list = [];
                        list.Add(run);
                    }
        Console.WriteLine($"gpt2-small float32, {PromptLength}-token prompts, {NewTokens} new tokens greedy, a fresh process per run, " +
            $"medians of {rounds} rounds");
        Console.WriteLine("| variant | tiered compilation | batch | wall ms | first token ms | load ms | prompt ms | decode tok/s | whole run tok/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var ((name, tiered, batch), list) in rows.OrderBy(r => r.Key.Item3))
        {
            double M(Func<Sample, double> value) => Statistics.Median(list.Select(value));
            string line = string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {(tiered ? "on" : "off")} | {batch} | {M(r => r.WallMs):F0} | {M(r => r.WallMs - r.DecodeMs):F0} | " +
                $"{M(r => r.LoadMs):F0} | {M(r => r.PromptMs):F0} | {M(r => r.DecodeRate):F1} | " +
                $"{M(r => batch * NewTokens / (r.WallMs / 1000)):F1} |");
            Console.WriteLine(line);
        }
    }

    private sealed record Sample(double WallMs, double LoadMs, double PromptMs, double DecodeMs, double DecodeRate);

    private static Sample Once(string dll, string folder, int batch, bool tiered)
    {
        string inputs = Path.Combine(folder, $"inputs-{batch}.safetensors");
        var start = new ProcessStartInfo("dotnet", [dll, "generate", "--model", folder, "--inputs", inputs, "--out", inputs + ".out", "--greedy",
            "--max-new-tokens", NewTokens.ToString(CultureInfo.InvariantCulture), "--stats"]) { RedirectStandardError = true };
        start.Environment["DOTNET_TieredCompilation"] = tiered ? "1" : "0";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        double wall = clock.Elapsed.TotalMilliseconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"peft failed ({process.ExitCode}): {error}");
        return new Sample(wall, Milliseconds(error, "load time"), Milliseconds(error, "prompt eval time"), Milliseconds(error, "peft: eval time"),
            CliStats.Rate(error, "peft: eval time"));
    }

    private static string StatsLine(string stats, string name) => stats.Split('\n').Single(l => l.Contains(name, StringComparison.Ordinal));

    private static double Milliseconds(string stats, string name) =>
        double.Parse(Regex.Match(StatsLine(stats, name), @"=\s*([\d.]+) ms").Groups[1].Value, CultureInfo.InvariantCulture);
}
