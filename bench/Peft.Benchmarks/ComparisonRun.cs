using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Benchmarks.Shared;
using Peft.Tensors;
using Peft.Tensors.Threading;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Benchmarks;

/// <summary>
/// One row of the comparison against libtorch (issue 15) in this process, printed as one JSON line with the fields and
/// the timing rules of ../shared/bench/torchsharp (tsbench), so bench/Peft.Torch.Compare can set the two side by side:
/// <c>dotnet Peft.Benchmarks.dll json --size gpt2 --mode prefix|lora --batch 4 --seq 128 --threads 2 --runs 7</c>
/// (2 warm-up steps, then step_s over the runs) or <c>json --mode gen --batch 1|8 --prompt 32 --new 64</c> (greedy,
/// KV cache, one warm-up generation, then prefill_s and decode_s over the runs). Run one row per process: vm_hwm_mib
/// is the process's peak RSS. Our defaults where they differ from tsbench's: the chunked loss the Trainer uses
/// (<c>--loss full</c> materializes the logits as tsbench does), HF's label shift (the loss covers seq − 1 positions,
/// tsbench's seq with one more input id), LoRA's B filled with 0.01 rather than zeros (so A gets gradients too).
/// </summary>
internal static class ComparisonRun
{
    public static void Run(string[] args)
    {
        var a = new Dictionary<string, string>
        {
            ["size"] = "gpt2", ["mode"] = "prefix", ["batch"] = "4", ["seq"] = "128", ["threads"] = "2", ["runs"] = "7",
            ["prompt"] = "32", ["new"] = "64", ["loss"] = "chunked",
        };
        for (int i = 1; i < args.Length; i += 2)
        {
            string key = args[i].TrimStart('-');
            if (!a.ContainsKey(key) || i + 1 >= args.Length)
                throw new ArgumentException($"usage: json [--{string.Join(" V] [--", a.Keys)} V]; got '{args[i]}'.");
            a[key] = args[i + 1];
        }
        int Arg(string key) => int.Parse(a[key], CultureInfo.InvariantCulture);
        var shape = BenchModelShape.Get(a["size"]);
        int threads = Arg("threads"), runs = Arg("runs"), batch = Arg("batch");
        if (runs < 1) throw new ArgumentException("--runs must be at least 1.");
        WorkerPool.SetMaxDegree(threads);
        var output = new JsonObject
        {
            ["system"] = "Peft.MLNet", ["size"] = shape.Name, ["mode"] = a["mode"], ["threads"] = threads, ["threads_used"] = WorkerPool.Degree,
        };
        switch (a["mode"])
        {
            case "prefix" or "lora":
                Train(output, shape, a["mode"], batch, Arg("seq"), runs, a["loss"]);
                break;
            case "gen":
                Generate(output, shape, batch, Arg("prompt"), Arg("new"), runs);
                break;
            default:
                throw new ArgumentException($"Unknown mode '{a["mode"]}'; use prefix, lora or gen.");
        }
        output["vm_hwm_mib"] = VmHwmMiB();
        Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    private static void Train(JsonObject output, BenchModelShape shape, string method, int batch, int length, int runs, string loss)
    {
        if (loss is not ("chunked" or "full")) throw new ArgumentException($"--loss is chunked or full; got '{loss}'.");
        var step = new PeftTrainingStep(method, chunkedLoss: loss == "chunked", batch: batch, length: length, shape: shape);
        output["base_params"] = step.BaseParameters;
        output["trainable_params"] = step.TrainableParameters;
        var losses = new List<float> { step.Step(), step.Step() };   // warm-up, as tsbench
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            losses.Add(step.Step());
            times.Add(clock.Elapsed.TotalSeconds);
        }
        output["batch"] = batch;
        output["seq"] = length;
        output["prefix"] = method == "prefix" ? 20 : 0;
        output["rank"] = method == "lora" ? 8 : null;
        output["loss"] = loss;
        output["losses_first_last"] = new JsonArray(losses[0], losses[^1]);
        output["step_s"] = Stats(times);
    }

    private static void Generate(JsonObject output, BenchModelShape shape, int batch, int promptLength, int newTokens, int runs)
    {
        if (newTokens < 2) throw new ArgumentException("--new must be at least 2 (the decode rate counts the tokens after the first).");
        var model = ModelLoader.CreateCausal(shape.Config());
        ModelInitializer.InitializeRandom(model.Parameters, 1);
        output["base_params"] = model.Parameters.ElementCount;
        var generator = new CausalGenerator(model);
        var random = new Random(batch);
        var prompt = IntTensor.FromArray([.. Enumerable.Range(0, batch * promptLength).Select(_ => random.Next(shape.Vocabulary))], batch, promptLength);
        (double Prefill, double Decode) Once()
        {
            var clock = Stopwatch.StartNew();
            TimeSpan first = TimeSpan.Zero;
            var options = new GenerationOptions
            {
                MaxNewTokens = newTokens,
                EosTokenIds = [],   // no stop: every run makes all the tokens, as tsbench does
                StepCompleted = generated =>
                {
                    if (generated == 1) first = clock.Elapsed;
                },
            };
            var sequences = generator.GenerateGreedy(prompt, null, options);
            var total = clock.Elapsed;
            if (sequences.Shape[1] != promptLength + newTokens)
                throw new InvalidOperationException($"Generation stopped early: {sequences.Shape[1] - promptLength} of {newTokens} tokens.");
            return (first.TotalSeconds, (total - first).TotalSeconds);
        }
        Once();   // warm-up
        List<double> prefill = [], decode = [], total = [];
        for (int i = 0; i < runs; i++)
        {
            var (p, d) = Once();
            prefill.Add(p);
            decode.Add(d);
            total.Add(p + d);
        }
        output["batch"] = batch;
        output["prompt"] = promptLength;
        output["new"] = newTokens;
        output["prefill_s"] = Stats(prefill);
        output["decode_s"] = Stats(decode);
        output["total_s"] = Stats(total);
        output["tok_per_s_total"] = batch * newTokens / Statistics.Median(total);
        output["tok_per_s_decode"] = batch * (newTokens - 1) / Statistics.Median(decode);
        output["ms_per_decode_step"] = 1e3 * Statistics.Median(decode) / (newTokens - 1);
    }

    private static JsonObject Stats(List<double> values) =>
        new() { ["median"] = Statistics.Median(values), ["min"] = values.Min(), ["max"] = values.Max(), ["n"] = values.Count };

    /// <summary>Peak resident set of this process in MiB, read as tsbench reads it.</summary>
    private static double VmHwmMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return -1;
    }
}
