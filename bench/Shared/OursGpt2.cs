using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Benchmarks.Shared;

/// <summary>
/// Our side of the engine comparisons (ONNX Runtime, llama.cpp; linked source): prefill is one forward of the prompts
/// into an emptied DynamicCache kept per prompt shape, as CausalGenerator's prompt pass runs it (frozen weights through
/// their packed copies); generation is CausalGenerator's greedy generation timed with CliStats' split after the first
/// token.
/// </summary>
internal sealed class OursGpt2(CausalLanguageModel model)
{
    private readonly CausalGenerator _generator = new(model);
    private readonly Dictionary<(int Batch, int Length), DynamicCache> _caches = [];

    /// <summary>Prefill time in seconds: one forward of [batch, length] filling a cache; the last position's logits out.</summary>
    public double Prefill(int[] prompt, int batch, int length, out float[] lastLogits)
    {
        var ids = IntTensor.FromArray(prompt, batch, length);
        int vocab = model.Config.VocabSize;
        lastLogits = new float[batch * vocab];
        // One cache per prompt shape, emptied per run, as ORT's side binds preallocated key/value buffers: a fresh
        // 10-80 MB cache per run measured this VM's page faults (its first touch) more than the prefill.
        if (!_caches.TryGetValue((batch, length), out var cache))
            _caches[(batch, length)] = cache = new DynamicCache(model.CacheLayoutFor(batch), length);
        cache.Crop(0);
        var clock = Stopwatch.StartNew();
        double seconds;
        // As CausalGenerator's prompt pass: frozen weights through their packed copies.
        using (Autograd.NoGrad())
        using (WeightPacking.PackFrozenWeights())
        using (new TensorScope())
        {
            var logits = model.Forward(inputIds: ids, cache: cache).Logits;
            seconds = clock.Elapsed.TotalSeconds;
            for (int b = 0; b < batch; b++)
                logits.Span.Slice(((b * length) + length - 1) * vocab, vocab).CopyTo(lastLogits.AsSpan(b * vocab, vocab));
        }
        return seconds;
    }

    /// <summary>The last position's logits of a forward over [batch, length] prompts, per row.</summary>
    public float[] FirstLogits(int[] prompt, int batch, int length)
    {
        Prefill(prompt, batch, length, out var lastLogits);
        return lastLogits;
    }

    /// <summary>
    /// Greedy generation, no end-of-sequence stop: the new ids [batch][newTokens], the time to the first new token
    /// (prefill) and the time after it (decode).
    /// </summary>
    public (int[][] Ids, double PrefillSeconds, double DecodeSeconds) Generate(int[] prompt, int batch, int length, int newTokens)
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
        return (ids, first.TotalSeconds, seconds);
    }
}
