using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Onnx.Benchmarks;

/// <summary>
/// Our side of each case, done as bench/Peft.Benchmarks does it: prefill is PrefillThroughput's forward into a fresh
/// DynamicCache; decode is CausalGenerator's greedy generation timed with CliStats' split after the first token.
/// </summary>
internal sealed class OursGpt2(CausalLanguageModel model)
{
    private readonly CausalGenerator _generator = new(model);

    /// <summary>Prefill time in seconds: one forward of [batch, length] filling a cache; the last position's logits out.</summary>
    public double Prefill(int[] prompt, int batch, int length, out float[] lastLogits)
    {
        var ids = IntTensor.FromArray(prompt, batch, length);
        int vocab = model.Config.VocabSize;
        lastLogits = new float[batch * vocab];
        var cache = new DynamicCache(model.CacheLayoutFor(batch), length);
        var clock = Stopwatch.StartNew();
        double seconds;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            var logits = model.Forward(inputIds: ids, cache: cache).Logits;
            seconds = clock.Elapsed.TotalSeconds;
            for (int b = 0; b < batch; b++)
                logits.Span.Slice(((b * length) + length - 1) * vocab, vocab).CopyTo(lastLogits.AsSpan(b * vocab, vocab));
        }
        return seconds;
    }

    /// <summary>Greedy generation, no end-of-sequence stop; the new ids [batch][newTokens] and the time after the first token.</summary>
    public (int[][] Ids, double DecodeSeconds) Generate(int[] prompt, int batch, int length, int newTokens)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan first = TimeSpan.Zero;
        var options = new GenerationOptions
        {
            MaxNewTokens = newTokens,
            EosTokenIds = [],
            StepCompleted = generated =>
            {
                if (generated == 1) first = clock.Elapsed;
            },
        };
        var sequences = _generator.GenerateGreedy(IntTensor.FromArray(prompt, batch, length), null, options);
        double seconds = (clock.Elapsed - first).TotalSeconds;
        int total = sequences.Shape[1];
        if (total != length + newTokens) throw new InvalidOperationException($"Generation stopped early: {total - length} of {newTokens} tokens.");
        var ids = Enumerable.Range(0, batch).Select(b => sequences.Span.Slice(b * total + length, newTokens).ToArray()).ToArray();
        return (ids, seconds);
    }
}
