using System.Diagnostics;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft generate --inputs</c>: greedy generation laid out as HF's <c>generate().sequences</c>
/// (causal: prompt with its padding + new ids; seq2seq: decoder start id + new ids), written as
/// int64. Adapters apply as in <c>peft logits</c>; cached and uncached runs give the same ids.
/// </summary>
internal static class TensorGeneration
{
    public static int Run(LoadedModel model, ModelInputs inputs, string output, int maxNewTokens, bool useCache, bool stats, TextWriter error)
    {
        var options = new GenerationOptions { MaxNewTokens = maxNewTokens, UseCache = useCache };
        int batch = inputs.InputIds.Shape[0];
        var clock = Stopwatch.StartNew();
        var sequences = model.Model.Generate(inputs.InputIds, inputs.AttentionMask, options, inputs.TaskIds);
        double seconds = clock.Elapsed.TotalSeconds;
        OutputFile.Write(output, [OutputFile.Int64("sequences", sequences)]);
        if (stats)
        {
            int newTokens = batch * (sequences.Shape[1] - (model.Model.TaskType == ModelTask.Seq2SeqLM ? 1 : inputs.InputIds.Shape[1]));
            error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; generated {newTokens} tokens in {seconds:F3} s " +
                $"({newTokens / seconds:F0} tok/s including prefill)");
        }
        return 0;
    }
}
