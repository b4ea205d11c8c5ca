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
        var clock = Stopwatch.StartNew();
        TimeSpan firstStep = TimeSpan.Zero;
        int steps = 0;
        // The first step is the pass over the prompts; timing it apart splits prompt processing from decoding.
        var options = new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            UseCache = useCache,
            StepCompleted = generated =>
            {
                steps = generated;
                if (generated == 1) firstStep = clock.Elapsed;
            },
        };
        int batch = inputs.InputIds.Shape[0];
        var sequences = model.Model.Generate(inputs.InputIds, inputs.AttentionMask, options, inputs.TaskIds);
        var total = clock.Elapsed;
        OutputFile.Write(output, [OutputFile.Int64("sequences", sequences)]);
        if (stats)
        {
            long promptTokens = inputs.AttentionMask is { } mask ? mask.ToArray().Count(m => m != 0) : inputs.InputIds.Shape[0] * (long)inputs.InputIds.Shape[1];
            var figures = new GenerationStats(model.LoadTime);
            figures.Add(promptTokens, firstStep, batch * (long)Math.Max(0, steps - 1), total - firstStep);
            figures.Print(error);
        }
        return 0;
    }
}
