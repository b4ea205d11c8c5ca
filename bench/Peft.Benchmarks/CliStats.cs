using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Peft.Benchmarks.Shared;
using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.SafeTensors;

namespace Peft.Benchmarks;

/// <summary>
/// The <c>peft generate --stats</c> figures against the library's own timing of the same work:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- cli-stats PEFT_DLL [runs]</c>, where PEFT_DLL is the built
/// command (src/Peft.Cli/bin/Release/net10.0/peft.dll). On a gpt2-small-shaped float32 model (random weights,
/// written once to a temp folder), 16-token prompts, 32 new tokens greedy with the KV cache, batch 1 and 8: the
/// command (a fresh process per run, tensor mode) prints prompt and decode rates; the harness times the same
/// Generate call with the same step split, in a fresh process of this program (cold, as the command is: first-call
/// compilation and packing of the frozen weights included) and in this warm process. Best of the runs for each.
/// </summary>
internal static class CliStats
{
    private const int PromptLength = 16, NewTokens = 32;

    public static void Run(string[] args)
    {
        if (args.Length == 4 && args[1] == "child")
        {
            // A fresh process, like the command's: load, then one Generate, cold.
            var loaded = ModelLoader.LoadCausal(args[2]);
            int rows = int.Parse(args[3], CultureInfo.InvariantCulture);
            int[] promptIds = Prompts(rows);
            // PEFT_CLI_STATS_PEFTMODEL=1: through a PeftModel without adapters, the command's path.
            var (p, d) = Environment.GetEnvironmentVariable("PEFT_CLI_STATS_PEFTMODEL") == "1"
                ? Harness(new Peft.Tuners.PeftModels.PeftModel(loaded).Generate, IntTensor.FromArray(promptIds, rows, PromptLength))
                : Harness(loaded, IntTensor.FromArray(promptIds, rows, PromptLength));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p} {d}"));
            return;
        }
        if (args.Length < 2 || !File.Exists(args[1]))
            throw new ArgumentException("usage: cli-stats PEFT_DLL [runs]  (build src/Peft.Cli in Release first)");
        string peft = args[1];
        int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        string folder = Path.Combine(Path.GetTempPath(), "peft-cli-stats-gpt2-small");
        Gpt2SmallFolder.Ensure(folder);
        var model = ModelLoader.LoadCausal(folder);
        Console.WriteLine($"gpt2-small float32, {PromptLength}-token prompts, {NewTokens} new tokens greedy, best of {runs}; tokens/s");
        Console.WriteLine("batch | CLI prompt | harness prompt (cold) | warm | CLI decode | harness decode (cold) | warm | decode CLI/cold harness");
        foreach (int batch in new[] { 1, 8 })
        {
            int[] ids = Prompts(batch);
            string inputs = Path.Combine(folder, $"inputs-{batch}.safetensors");
            SafeTensorsWriter.Write(inputs,
                [new SafeTensorWriteEntry("input_ids", SafeTensorDType.I32, [batch, PromptLength], ids.SelectMany(BitConverter.GetBytes).ToArray())]);
            // The command and the cold harness interleaved, so a change in the machine's load falls on both; the warm runs
            // come after them, because this process's generation threads stay busy for a while after a run and slowed
            // the next child process (batch 8 decoding read 0.65 of the harness when warm runs came between).
            double cliPrompt = 0, cliDecode = 0, coldPrompt = 0, coldDecode = 0, warmPrompt = 0, warmDecode = 0;
            for (int run = 0; run < runs; run++)
            {
                var (p, d) = Cli(peft, folder, inputs);
                (cliPrompt, cliDecode) = (Math.Max(cliPrompt, p), Math.Max(cliDecode, d));
                (p, d) = Cold(folder, batch);
                (coldPrompt, coldDecode) = (Math.Max(coldPrompt, p), Math.Max(coldDecode, d));
            }
            for (int run = 0; run < runs; run++)
            {
                var (p, d) = Harness(model, IntTensor.FromArray(ids, batch, PromptLength));
                (warmPrompt, warmDecode) = (Math.Max(warmPrompt, p), Math.Max(warmDecode, d));
            }
            Console.WriteLine($"{batch,5} | {cliPrompt,10:F1} | {coldPrompt,21:F1} | {warmPrompt,6:F1} | {cliDecode,10:F1} | {coldDecode,21:F1} | " +
                $"{warmDecode,6:F1} | {cliDecode / coldDecode,6:F3}");
        }
    }

    private static int[] Prompts(int batch)
    {
        var random = new Random(batch);
        return [.. Enumerable.Range(0, batch * PromptLength).Select(_ => random.Next(50000))];
    }

    /// <summary>The harness in a fresh process of this program: the same cold start the command has.</summary>
    private static (double Prompt, double Decode) Cold(string folder, int batch)
    {
        // Under `dotnet run` this program is its apphost; started as `dotnet Peft.Benchmarks.dll` the host needs the dll first.
        string[] childArgs = ["cli-stats", "child", folder, batch.ToString(CultureInfo.InvariantCulture)];
        bool viaHost = Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet";
        var start = new ProcessStartInfo(Environment.ProcessPath!, viaHost ? [typeof(CliStats).Assembly.Location, .. childArgs] : childArgs)
        {
            RedirectStandardOutput = true,
        };
        // The command is built with tiered compilation off (its runtimeconfig); the cold harness runs the same way.
        start.Environment["DOTNET_TieredCompilation"] = "0";
        using var child = Process.Start(start)!;
        string line = child.StandardOutput.ReadToEnd().Trim();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"The harness process failed ({child.ExitCode}): {line}");
        var parts = line.Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The command's own figures, read from its --stats lines.</summary>
    private static (double Prompt, double Decode) Cli(string peft, string folder, string inputs)
    {
        var start = new ProcessStartInfo("dotnet", [peft, "generate", "--model", folder, "--inputs", inputs, "--out", inputs + ".out", "--greedy",
            "--max-new-tokens", NewTokens.ToString(CultureInfo.InvariantCulture), "--stats"]) { RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"peft failed ({process.ExitCode}): {error}");
        return (Rate(error, "prompt eval time"), Rate(error, "peft: eval time"));
    }

    internal static double Rate(string stats, string line)
    {
        string text = stats.Split('\n').Single(l => l.Contains(line, StringComparison.Ordinal));
        return double.Parse(Regex.Match(text, @"([\d.]+) tokens/s").Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The same Generate call timed in process, split at the first step as the command splits it.</summary>
    private static (double Prompt, double Decode) Harness(CausalLanguageModel model, IntTensor ids) =>
        Harness((input, mask, options, _) => new CausalGenerator(model).Generate(input, mask, options), ids);

    /// <summary>One generate call (bare generator or PeftModel) timed with the step split.</summary>
    private static (double Prompt, double Decode) Harness(Func<IntTensor, IntTensor?, GenerationOptions, IntTensor?, IntTensor> generate, IntTensor ids)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan first = TimeSpan.Zero;
        int steps = 0;
        var options = new GenerationOptions
        {
            MaxNewTokens = NewTokens,
            StepCompleted = generated =>
            {
                steps = generated;
                if (generated == 1) first = clock.Elapsed;
            },
        };
        generate(ids, null, options, null);
        var total = clock.Elapsed;
        int batch = ids.Shape[0];
        return (batch * PromptLength / first.TotalSeconds, batch * (steps - 1) / (total - first).TotalSeconds);
    }
}
