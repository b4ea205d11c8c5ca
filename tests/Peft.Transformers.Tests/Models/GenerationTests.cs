using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class GenerationTests
{
    private static (CausalLanguageModel Model, IntTensor Ids, IntTensor Mask) Load(string caseName)
    {
        using var c = new HfCase(caseName);
        return (ModelLoader.LoadCausal(c.BaseFolder), c.Ints("input.input_ids"), c.Ints("input.attention_mask"));
    }

    [TestMethod]
    public void SamplingIsReproducibleBySeedAndDegeneratesToGreedy()
    {
        var (model, ids, mask) = Load("gpt2_base");
        var gen = new CausalGenerator(model);
        var sampled = new GenerationOptions { MaxNewTokens = 8, DoSample = true, Temperature = 2f, Seed = 7 };
        var a = gen.Generate(ids, mask, sampled).ToArray();
        var b = gen.Generate(ids, mask, sampled).ToArray();
        var other = gen.Generate(ids, mask, sampled with { Seed = 8 }).ToArray();
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, other);
        var greedy = gen.GenerateGreedy(ids, mask, new GenerationOptions { MaxNewTokens = 8 }).ToArray();
        CollectionAssert.AreEqual(greedy, gen.Generate(ids, mask, sampled with { TopK = 1 }).ToArray());
        CollectionAssert.AreEqual(greedy, gen.Generate(ids, mask, sampled with { TopP = 1e-6f }).ToArray());
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void AReusedCacheGivesTheTokensOfAFreshOne(string caseName)
    {
        // A long run leaves its cache to the model; shorter runs with the same batch take it emptied, and must generate
        // exactly what a fresh model does (stale keys past the new length, or a kept prefix length, would change them).
        var (model, ids, mask) = Load(caseName);
        var (fresh, _, _) = Load(caseName);
        var options = new GenerationOptions { MaxNewTokens = 7, EosTokenIds = [] };
        var gen = new CausalGenerator(model);
        gen.GenerateGreedy(ids, mask, options with { MaxNewTokens = 12 });
        var kept = model.TakeSpareCache(model.CacheLayoutFor(ids.Shape[0]), 1);
        Assert.IsNotNull(kept, "a finished generation keeps its dynamic cache");
        Assert.AreEqual((0, 0), (kept.Length, kept.PrefixLength), "taken emptied");
        model.KeepSpareCache(kept);
        for (int run = 0; run < 2; run++)
            CollectionAssert.AreEqual(new CausalGenerator(fresh).GenerateGreedy(ids, mask, options).ToArray(),
                new CausalGenerator(model).GenerateGreedy(ids, mask, options).ToArray(), $"run {run} on the reused cache");
        // A different batch layout does not take it, nor does a request for more positions than it holds.
        Assert.IsNull(model.TakeSpareCache(model.CacheLayoutFor(ids.Shape[0] + 1), 1));
        new CausalGenerator(model).GenerateGreedy(ids, mask, options);
        Assert.IsNull(model.TakeSpareCache(model.CacheLayoutFor(ids.Shape[0]), 1 << 20));
    }

    [TestMethod]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeScores()
    {
        var selector = new TokenSelector(new GenerationOptions { RepetitionPenalty = 2f });
        float[] logits = [3f, 2f, -1f];
        Assert.AreEqual(1, selector.Select(logits, [0, 2]));
        CollectionAssert.AreEqual(new[] { 1.5f, 2f, -2f }, logits);
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void LeftPaddedBatchGivesEachRowsOwnTokens(string caseName)
    {
        var (model, ids, mask) = Load(caseName);
        var gen = new CausalGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 6 };
        var batched = gen.GenerateGreedy(ids, mask, options);
        int batch = ids.Shape[0], length = ids.Shape[1], total = batched.Shape[1];
        for (int b = 0; b < batch; b++)
        {
            int pads = 0;
            while (mask.Span[b * length + pads] == 0) pads++;
            var alone = IntTensor.FromArray(ids.Span.Slice(b * length + pads, length - pads).ToArray(), 1, length - pads);
            var single = gen.GenerateGreedy(alone, null, options).ToArray();
            CollectionAssert.AreEqual(single[(length - pads)..], batched.ToArray()[(b * total + length)..((b + 1) * total)], $"row {b}");
        }
    }

    [TestMethod]
    public async Task StreamingYieldsTheGeneratedTokensAndHonoursCancellation()
    {
        var (model, ids, _) = Load("llama_base");
        var prompt = IntTensor.FromArray(ids.Span[..7].ToArray(), 1, 7);
        var gen = new CausalGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] };
        var expected = gen.GenerateGreedy(prompt, null, options).ToArray()[7..];
        var streamed = new List<int>();
        await foreach (int token in gen.StreamAsync(prompt, null, options)) streamed.Add(token);
        CollectionAssert.AreEqual(expected, streamed);

        using var cts = new CancellationTokenSource();
        var seen = new List<int>();
        await Assert.ThrowsExactlyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int token in gen.StreamAsync(prompt, null, options, cts.Token))
            {
                seen.Add(token);
                cts.Cancel();
            }
        });
        Assert.AreEqual(1, seen.Count);
    }

    [TestMethod]
    public void InvalidOptionsAndInputsAreRejected()
    {
        var (model, ids, _) = Load("gpt2_base");
        var gen = new CausalGenerator(model);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gen.Generate(ids, null, new GenerationOptions { Temperature = 0f }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gen.Generate(ids, null, new GenerationOptions { TopP = 1.5f }));
        var bad = IntTensor.FromArray([1, 999], 1, 2);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gen.Generate(bad, null, new GenerationOptions())).Message, "999");
    }
}
