using System.Text.Json;

namespace Peft.Tokenizers.Tests;

[TestClass]
public sealed class OffsetTests
{
    [TestMethod]
    public void OffsetsPointIntoTheInput()
    {
        var gpt2 = TokenizerFixtureTests.Get("gpt2");
        CollectionAssert.AreEqual(new[] { (0, 5), (5, 11) }, gpt2.Encode("Hello world", false).Offsets.ToArray());
        var mistral = TokenizerFixtureTests.Get("mistral");
        var encoded = mistral.Encode("Hello world", true);
        CollectionAssert.AreEqual(new[] { (0, 0), (0, 5), (5, 11) }, encoded.Offsets.ToArray(), "the added <s> has no span; ▁ takes the space");
        var emoji = gpt2.Encode("a😀b", false);
        Assert.IsTrue(emoji.Offsets.Where(o => o.End - o.Start == 2).Any(), "byte tokens of the emoji span its two UTF-16 units");
        var qwen = TokenizerFixtureTests.Get("qwen3");
        var composed = qwen.Encode("e\u0301x", false);
        Assert.AreEqual((0, 3), (composed.Offsets[0].Start, composed.Offsets[^1].End), "NFC merged e + accent into one character spanning both");
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    [DataRow("mistral")]
    [DataRow("unigram_synthetic")]
    public void EveryFixtureTextsOffsetsAreOrderedWithinTheText(string name)
    {
        var tokenizer = TokenizerFixtureTests.Get(name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.Folder(name), "cases.json")));
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            var encoded = tokenizer.Encode(text, false);
            Assert.AreEqual(encoded.Ids.Count, encoded.Offsets.Count);
            int previous = 0;
            var covered = new bool[text.Length];
            foreach (var (start, end) in encoded.Offsets)
            {
                Assert.IsTrue(start >= 0 && start <= end && end <= text.Length, $"{name} '{text}': ({start}, {end})");
                Assert.IsGreaterThanOrEqualTo(previous, start, $"{name} '{text}': starts go forward");
                previous = start;
                for (int i = start; i < end; i++) covered[i] = true;
            }
            // Without whitespace-dropping pre-tokenizers every character belongs to some token.
            if (name is "gpt2" or "llama3" or "qwen3")
                Assert.IsTrue(covered.All(x => x), $"{name} '{text}': every character is covered");
        }
    }
}
