using System.Globalization;
using System.Text.Json.Nodes;
using Peft.Benchmarks.Shared;
using Peft.Torch.Compare;

// Ours against libtorch 2.10 (TorchSharp-cpu 0.107) on gpt2-small shapes, issue 15. One command:
//   dotnet run -c Release --project bench/Peft.Torch.Compare -- [--rounds 3] [--filter TEXT] [--threads 2] [--runs 5]
//       [--size gpt2] [--loss chunked|full] [--torchsharp ../shared/bench/torchsharp] [--work DIR] [--no-build]
// It copies the TorchSharp baseline (../shared/bench/torchsharp, read-only) to a temp folder and builds it, builds
// bench/Peft.Benchmarks, then for each round runs every row ours then TorchSharp, each in a fresh process (so peak RSS
// is per row), and prints a markdown table of the medians of the round medians with the rounds' range. Rows: prefix
// and LoRA training steps at 4x128, 1x512 and 16x128 (2 warm-up steps, then the median of --runs), decode b=1 and b=8
// fp32 (32-token prompt, 64 new tokens greedy, 1 warm-up generation, then the median of --runs). Both sides use the
// same model shape, random weights, AdamW on the adapter only and --threads threads. Ours uses its defaults (chunked
// loss, which the Trainer uses); see bench/Peft.Benchmarks/ComparisonRun.cs for the other differences. --size tiny
// checks in a minute that everything runs. Not in Peft.MLNet.sln: libtorch is a large download CI must not make.
ComparisonOptions options;
try
{
    options = ComparisonOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
var rows = ComparisonRow.All.Where(r => r.Name.Contains(options.Filter, StringComparison.OrdinalIgnoreCase)).Select(r => new RowSamples(r)).ToList();
if (rows.Count == 0)
{
    Console.Error.WriteLine($"No row matches '{options.Filter}'. Rows: {string.Join("; ", ComparisonRow.All.Select(r => r.Name))}");
    return 2;
}

string torchDll = Builds.TorchSharp(options);
string oursDll = Builds.Ours(options);
string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
string loadBefore = Load();
string libtorch = "?";
Console.WriteLine($"size {options.Size}, {options.Threads} threads each, {options.Runs} timed runs per process, {options.Rounds} rounds, " +
    $"our loss {options.Loss}; load average {loadBefore}");
for (int round = 1; round <= options.Rounds; round++)
{
    foreach (var samples in rows)
    {
        var row = samples.Row;
        var ours = RunResult.Parse(ChildProcess.Run("dotnet", [oursDll, "json", .. row.Arguments(options), "--loss", options.Loss]), row);
        string torchOutput = ChildProcess.Run("dotnet", [torchDll, .. row.Arguments(options)]);
        var torch = RunResult.Parse(torchOutput, row);
        if (libtorch == "?")
            libtorch = JsonNode.Parse(torchOutput.Split('\n').Last(l => l.TrimStart().StartsWith('{')))!["libtorch"]?.ToString() ?? "?";
        samples.Ours.Add(ours);
        samples.Torch.Add(torch);
        Console.WriteLine($"round {round}/{options.Rounds} {row.Name}: ours {ours.Note}, {ours.PeakMiB:F0} MiB | " +
            $"TorchSharp {torch.Note}, {torch.PeakMiB:F0} MiB");
    }
    Console.WriteLine($"round {round}/{options.Rounds} done, load average {Load()}");
}

string Figure(IEnumerable<double> values, string format, string unit)
{
    var list = values.ToList();
    string f(double v) => v.ToString(format, CultureInfo.InvariantCulture);
    return list.Count == 1 ? $"{f(list[0])}{unit}" : $"{f(Statistics.Median(list))}{unit} ({f(list.Min())}-{f(list.Max())})";
}
Console.WriteLine();
Console.WriteLine($"Peft.MLNet against libtorch {libtorch} (TorchSharp-cpu 0.107), size {options.Size}, {options.Threads} threads each, " +
    $"our loss {options.Loss}; median of {options.Rounds} round medians (range of the rounds). Speed ratio > 1: ours faster; RSS ratio > 1: ours smaller.");
Console.WriteLine();
Console.WriteLine("| row | this project | libtorch (TorchSharp) | speed ratio | peak RSS ours | peak RSS TorchSharp | RSS ratio |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (var s in rows)
{
    var (format, unit) = s.Row.IsTraining ? ("F3", " s") : ("F1", " tok/s");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {s.Row.Name} | {Figure(s.Ours.Select(r => r.Value), format, unit)} | {Figure(s.Torch.Select(r => r.Value), format, unit)} | " +
        $"{s.SpeedRatio:F2} | {Figure(s.Ours.Select(r => r.PeakMiB), "F0", " MiB")} | {Figure(s.Torch.Select(r => r.PeakMiB), "F0", " MiB")} | " +
        $"{s.MemoryRatio:F2} |"));
}
Console.WriteLine($"\nload average before {loadBefore}, after {Load()} (1, 5, 15 min)");
return 0;
