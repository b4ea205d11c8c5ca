using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class StopStringTests
{
    private static string Letters(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => (char)('a' + i % 26)));

    [TestMethod]
    public void GenerationStopsOnceTheGeneratedTextContainsAStopString()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var generator = new CausalGenerator(model);
        var prompt = IntTensor.FromArray([5, 9, 13], 1, 3);
        var options = new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [], TextDecoder = Letters };
        var full = generator.Generate(prompt, null, options).ToArray();
        string text = Letters(full.Skip(3).ToArray());
        string stop = text.Substring(3, 2);
        int end = text.IndexOf(stop, StringComparison.Ordinal) + stop.Length;
        var stopped = generator.Generate(prompt, null, options with { StopStrings = [stop] }).ToArray();
        CollectionAssert.AreEqual(full.Take(3 + end).ToArray(), stopped, $"stops after '{stop}' in '{text}', keeping it");

        var t5 = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
        var seq2seq = new Seq2SeqGenerator(t5);
        var all = seq2seq.Generate(prompt, null, options).ToArray();
        string t5Text = Letters(all.Skip(1).ToArray());
        string t5Stop = t5Text.Substring(2, 2);
        int t5End = t5Text.IndexOf(t5Stop, StringComparison.Ordinal) + t5Stop.Length;
        CollectionAssert.AreEqual(all.Take(1 + t5End).ToArray(), seq2seq.Generate(prompt, null, options with { StopStrings = [t5Stop] }).ToArray());
    }

    [TestMethod]
    public void EachRowOfABatchStopsOnItsOwnTextAcrossTokens()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var generator = new CausalGenerator(model);
        var prompts = IntTensor.FromArray([5, 9, 13, 2, 7, 11], 2, 3);
        var options = new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [], TextDecoder = Letters, PadTokenId = 0 };
        var full = generator.Generate(prompts, null, options);
        int width = full.Shape[1];
        string[] texts = [.. Enumerable.Range(0, 2).Select(b => Letters(full.ToArray().Skip(b * width + 3).Take(width - 3).ToArray()))];
        // Three letters = three tokens: the match is only complete on the last of them.
        string stop = texts[1].Substring(5, 3);
        var stopped = generator.Generate(prompts, null, options with { StopStrings = [stop] });
        var got = stopped.ToArray();
        for (int b = 0; b < 2; b++)
        {
            int found = texts[b].IndexOf(stop, StringComparison.Ordinal);
            int keep = found < 0 ? width - 3 : found + stop.Length;
            var row = got.Skip(b * stopped.Shape[1] + 3).Take(stopped.Shape[1] - 3).ToArray();
            CollectionAssert.AreEqual(full.ToArray().Skip(b * width + 3).Take(keep).ToArray(), row.Take(keep).ToArray(),
                $"row {b}: '{texts[b]}' up to '{stop}'");
            Assert.IsTrue(row.Skip(keep).All(id => id == 0), $"row {b} is padded after its stop string");
        }
    }

    [TestMethod]
    public void StopStringsWithoutADecoderAreRejected()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => new CausalGenerator(model).Generate(IntTensor.FromArray([1, 2], 1, 2), null, new GenerationOptions { StopStrings = ["x"] })).Message,
            "TextDecoder");
    }
}
