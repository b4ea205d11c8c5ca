using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class Seq2SeqSamplingTests
{
    private static readonly IntTensor Source = IntTensor.FromArray([5, 9, 13, 2, 7, 8, 21, 3], 2, 4);

    [TestMethod]
    public void SamplingIsSeededAndCachedEqualsUncached()
    {
        var model = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
        var generator = new Seq2SeqGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [], DoSample = true, Temperature = 1.5f, TopK = 20, Seed = 11 };
        var first = generator.Generate(Source, null, options).ToArray();
        CollectionAssert.AreEqual(first, generator.Generate(Source, null, options).ToArray(), "same seed, same tokens");
        CollectionAssert.AreEqual(first, generator.Generate(Source, null, options with { UseCache = false }).ToArray(), "cache does not change sampling");
        var other = generator.Generate(Source, null, options with { Seed = 12 }).ToArray();
        CollectionAssert.AreNotEqual(first, other, "another seed draws other tokens");
        var greedy = generator.GenerateGreedy(Source, null, options).ToArray();
        CollectionAssert.AreEqual(greedy, generator.Generate(Source, null, options with { DoSample = true, TopK = 1 }).ToArray(), "top-k 1 is greedy");
    }

    [TestMethod]
    public async Task StreamingYieldsTheGreedyTokensOneByOne()
    {
        var model = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
        var generator = new Seq2SeqGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [] };
        var row = IntTensor.FromArray([5, 9, 13, 2], 1, 4);
        var greedy = generator.GenerateGreedy(row, null, options).ToArray().Skip(1).ToArray();
        var streamed = new List<int>();
        await foreach (int token in generator.StreamAsync(row, null, options)) streamed.Add(token);
        CollectionAssert.AreEqual(greedy, streamed.ToArray());
        await Assert.ThrowsExactlyAsync<ArgumentException>(async () =>
        {
            await foreach (int _ in generator.StreamAsync(Source, null, options)) { }
        });
    }
}
