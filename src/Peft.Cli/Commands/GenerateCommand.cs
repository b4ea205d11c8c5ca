using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Models;
using Peft.Transformers.Generation;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft generate</c>: greedy generation laid out as HF's <c>generate().sequences</c> (causal:
/// prompt with its padding + new ids; seq2seq: decoder start id + new ids), written as int64.
/// Adapters apply as in <c>peft logits</c>; cached and uncached runs give the same ids.
/// </summary>
internal static class GenerateCommand
{
    public const string Usage = "peft generate --model DIR [--adapter DIR]... --inputs IN.safetensors --greedy --max-new-tokens N " +
        "--out OUT.safetensors [--no-cache] [--stats]";

    public static int Run(IReadOnlyList<string> argv)
    {
        var args = new CommandLine("generate", argv, ["--model", "--adapter", "--inputs", "--out", "--max-new-tokens"], ["--greedy", "--no-cache", "--stats"]);
        if (!args.Has("--greedy"))
            throw new UsageException("generate: only greedy decoding is available from the command line; pass --greedy.");
        var inputs = ModelInputs.Read(args.Required("--inputs"));
        string output = args.Required("--out");
        var options = new GenerationOptions { MaxNewTokens = args.PositiveInt("--max-new-tokens", 20), UseCache = !args.Has("--no-cache") };
        var model = LoadedModel.Load(args);
        int batch = inputs.InputIds.Shape[0];
        var clock = Stopwatch.StartNew();
        var sequences = model.Model.Generate(inputs.InputIds, inputs.AttentionMask, options, inputs.TaskIds);
        double seconds = clock.Elapsed.TotalSeconds;
        OutputFile.Write(output, [OutputFile.Int64("sequences", sequences)]);
        if (args.Has("--stats"))
        {
            int newTokens = batch * (sequences.Shape[1] - (model.Model.TaskType == ModelTask.Seq2SeqLM ? 1 : inputs.InputIds.Shape[1]));
            Console.Error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; generated {newTokens} tokens in {seconds:F3} s " +
                $"({newTokens / seconds:F0} tok/s including prefill)");
        }
        return 0;
    }
}
