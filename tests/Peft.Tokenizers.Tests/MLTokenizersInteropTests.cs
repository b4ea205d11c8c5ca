using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using Peft.Tokenizers.Interop;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Tests;

/// <summary>Our GPT-2 tokenizer against ML.NET's (Tiktoken and CodeGen on GPT-2's vocabulary), in both directions.</summary>
[TestClass]
public sealed partial class MLTokenizersInteropTests
{
    [GeneratedRegex(@"\s\s")]
    private static partial Regex WhitespaceRun();

    private static readonly Lazy<TiktokenTokenizer> Tiktoken = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    private static Tokenizer Gpt2 => TokenizerFixtureTests.Get("gpt2");

    private static IEnumerable<string> FixtureTexts(string name = "gpt2")
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.Folder(name), "cases.json")));
        return doc.RootElement.EnumerateArray().Select(c => c.GetProperty("text").GetString()!).Distinct().ToArray();
    }

    /// <summary>CodeGen (GPT-2's BPE in ML.NET) from the vocabulary and merges of the fixture's tokenizer.json.</summary>
    private static CodeGenTokenizer CodeGenFromFixture()
    {
        var model = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.Folder("gpt2"), "tokenizer.json")))!["model"]!;
        var vocab = new MemoryStream(Encoding.UTF8.GetBytes(model["vocab"]!.ToJsonString()));
        string mergeLines = string.Join('\n', model["merges"]!.AsArray().Select(m => m!.GetValue<string>()));
        var merges = new MemoryStream(Encoding.UTF8.GetBytes("#version: 0.2\n" + mergeLines + "\n"));
        return CodeGenTokenizer.Create(vocab, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
    }

    [TestMethod]
    public void FixtureTextsGiveTiktokenAndCodeGenIds()
    {
        var codeGen = CodeGenFromFixture();
        int compared = 0;
        foreach (string text in FixtureTexts())
        {
            var ours = Gpt2.Encode(text, addSpecialTokens: false).Ids.ToArray();
            CollectionAssert.AreEqual(ours, Tiktoken.Value.EncodeToIds(text).ToArray(), $"Tiktoken differs on {JsonSerializer.Serialize(text)}");
            // CodeGen knows no <|endoftext|> in text, and has its own tokens for runs of spaces and tabs.
            if (!text.Contains("<|endoftext|>", StringComparison.Ordinal) && !WhitespaceRun().IsMatch(text))
                CollectionAssert.AreEqual(ours, codeGen.EncodeToIds(text).ToArray(), $"CodeGen differs on {JsonSerializer.Serialize(text)}");
            compared++;
        }
        Assert.IsGreaterThan(30, compared);
    }

    [TestMethod]
    public void OursThroughTheBaseClassMatchesOurEncoding()
    {
        MLTokenizer asMl = Gpt2;
        foreach (string text in FixtureTexts())
        {
            var ours = Gpt2.Encode(text);
            var tokens = asMl.EncodeToTokens(text, out string? normalized);
            Assert.IsNull(normalized);
            CollectionAssert.AreEqual(ours.Ids.ToArray(), tokens.Select(t => t.Id).ToArray());
            CollectionAssert.AreEqual(ours.Tokens.ToArray(), tokens.Select(t => t.Value).ToArray());
            CollectionAssert.AreEqual(ours.Offsets.Select(o => (o.Start, o.End)).ToArray(),
                tokens.Select(t => (t.Offset.Start.Value, t.Offset.End.Value)).ToArray());
            CollectionAssert.AreEqual(ours.Ids.ToArray(), asMl.EncodeToIds(text).ToArray());
            CollectionAssert.AreEqual(ours.Ids.ToArray(), asMl.EncodeToIds(text.AsSpan()).ToArray());
            Assert.AreEqual(ours.Ids.Count, asMl.CountTokens(text));
            Assert.AreEqual(Gpt2.Decode(ours.Ids), asMl.Decode(ours.Ids.AsEnumerable()));
        }
    }

    [TestMethod]
    public void IndexByTokenCountAgreesWithTiktokenOnAsciiTexts()
    {
        MLTokenizer ours = Gpt2;
        var texts = FixtureTexts().Where(t => t.All(c => c < 128)).ToArray();
        Assert.IsGreaterThan(15, texts.Length);
        foreach (string text in texts)
        {
            int total = ours.CountTokens(text);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ours.GetIndexByTokenCount(text, 0, out _, out _));
            for (int max = 1; max <= total + 1; max++)
            {
                string where = $"{JsonSerializer.Serialize(text)} max {max}";
                Assert.AreEqual(Tiktoken.Value.GetIndexByTokenCount(text, max, out _, out int theirCount),
                    ours.GetIndexByTokenCount(text, max, out string? normalized, out int count), where);
                Assert.AreEqual(theirCount, count, where);
                Assert.IsNull(normalized);
                Assert.AreEqual(Tiktoken.Value.GetIndexByTokenCountFromEnd(text, max, out _, out theirCount),
                    ours.GetIndexByTokenCountFromEnd(text, max, out _, out count), where);
                Assert.AreEqual(theirCount, count, where);
                var limited = ours.EncodeToIds(text, max, out _, out int consumed);
                Assert.AreEqual(Math.Min(max, total), limited.Count, where);
                Assert.AreEqual(ours.GetIndexByTokenCount(text, max, out _, out _), consumed, where);
            }
        }
    }

    [TestMethod]
    public void CutsNeverSplitACharacterSpreadOverTokens()
    {
        MLTokenizer ours = Gpt2;
        const string text = "I love 🍕!";
        var all = Gpt2.Encode(text).Ids;
        for (int max = 1; max <= all.Count; max++)
        {
            int index = ours.GetIndexByTokenCount(text, max, out _, out int count);
            Assert.IsLessThanOrEqualTo(max, count);
            CollectionAssert.AreEqual(Gpt2.Encode(text[..index]).Ids.ToArray(), all.Take(count).ToArray(), $"max {max}");
            int from = ours.GetIndexByTokenCountFromEnd(text, max, out _, out count);
            CollectionAssert.AreEqual(Gpt2.Encode(text[from..]).Ids.ToArray(), all.Skip(all.Count - count).ToArray(), $"from end, max {max}");
        }
    }

    [TestMethod]
    public void WithoutPreTokenizationTheByteMappingStays()
    {
        MLTokenizer ours = Gpt2;
        const string text = "Hello world, it's 2026!";
        var whole = ours.EncodeToIds(text, considerPreTokenization: false);
        Assert.AreEqual(text, ours.Decode(whole));
        CollectionAssert.AreEqual(Tiktoken.Value.EncodeToIds(text, considerPreTokenization: false).ToArray(), whole.ToArray());
    }

    [TestMethod]
    public void DecodeIntoASpanStopsAtWholeCharacters()
    {
        MLTokenizer ours = Gpt2;
        var ids = Gpt2.Encode("ab 🍕 cd").Ids;
        var buffer = new char[4];
        Assert.AreEqual(OperationStatus.DestinationTooSmall, ours.Decode(ids, buffer, out int consumed, out int written));
        Assert.AreEqual("ab", new string(buffer, 0, written), "' 🍕' would not fit");
        Assert.AreEqual(1, consumed);
        buffer = new char[20];
        Assert.AreEqual(OperationStatus.Done, ours.Decode(ids, buffer, out consumed, out written));
        Assert.AreEqual("ab 🍕 cd", new string(buffer, 0, written));
        Assert.AreEqual(ids.Count, consumed);
    }

    [TestMethod]
    public void WrappedTiktokenWorksAsOurs()
    {
        var wrapped = Tokenizer.FromMLTokenizer(Tiktoken.Value);
        Assert.AreSame(Tiktoken.Value, wrapped.WrappedTokenizer);
        Assert.AreEqual(50256, wrapped.EosTokenId);
        Assert.AreEqual(50257, wrapped.VocabularySize);
        Assert.IsTrue(wrapped.IsSpecial(50256));
        foreach (string text in FixtureTexts())
        {
            var ids = wrapped.Encode(text).Ids;
            CollectionAssert.AreEqual(Gpt2.Encode(text).Ids.ToArray(), ids.ToArray());
            Assert.AreEqual(Gpt2.Decode(ids), wrapped.Decode(ids));
            Assert.AreEqual(Gpt2.Decode(ids, skipSpecialTokens: true), wrapped.Decode(ids, skipSpecialTokens: true));
            var stream = wrapped.CreateStreamingDecoder();
            string streamed = string.Concat(ids.Select(stream.Add)) + stream.Flush();
            Assert.AreEqual(Gpt2.Decode(ids, skipSpecialTokens: true), streamed);
        }
        Assert.AreEqual("Hello", wrapped.IdToToken(15496));
        Assert.AreEqual(15496, wrapped.TokenToId("Hello"));
        Assert.AreEqual(50256, wrapped.TokenToId("<|endoftext|>"));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wrapped.Decode([50257]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wrapped.Decode([-1]));
    }

    [TestMethod]
    public void WrappedTokenizerTakesTheModelsSpecialTokens()
    {
        var wrapped = Tokenizer.FromMLTokenizer(CodeGenFromFixture(),
            new MLTokenizerOptions { BosTokenId = 50256, EosTokenId = 50256, PadTokenId = 0, AddBosToken = true, VocabularySize = 50257 });
        Assert.AreEqual(50256, wrapped.BosTokenId);
        Assert.AreEqual(0, wrapped.PadTokenId);
        Assert.AreEqual(50257, wrapped.VocabularySize);
        var ids = wrapped.Encode("Hello world").Ids;
        CollectionAssert.AreEqual(new[] { 50256, 15496, 995 }, ids.ToArray());
        CollectionAssert.AreEqual(new[] { 15496, 995 }, wrapped.Encode("Hello world", addSpecialTokens: false).Ids.ToArray());
        Assert.AreEqual("Hello world", wrapped.Decode(ids, skipSpecialTokens: true));
        Assert.AreEqual("ĠHello", wrapped.IdToToken(18435));
        var batch = wrapped.EncodeBatch(["Hello world", "Hello"], addSpecialTokens: false);
        Assert.AreEqual(0, batch.Ids[1, 1]);
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void ByteLevelFastPathEqualsTheGeneralPipeline(string name)
    {
        // The same file with its pre-tokenizer inside another Sequence takes the general (AlignedText) path.
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.Folder(name), "tokenizer.json")))!.AsObject();
        json["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(json["pre_tokenizer"]!.DeepClone()) };
        var general = Tokenizer.FromJson(json.ToJsonString());
        var ours = TokenizerFixtureTests.Get(name);
        MLTokenizer fast = ours;
        // Lone surrogates, long pieces, whitespace runs, an added token, and (for Qwen's NFC) text that is not NFC.
        string[] extra = ["lone \uD800 high", "lone \uDC00 low", "pair \uD83C\uDF55 and end \uD83C",
            new string('x', 3000) + " 🍕 " + new string(' ', 900) + "end",
            "tab\t\tnew\n\nline   spaces <|endoftext|>x", "cafe\u0301 \u1100\u1161 and 1234567 it's I'M", "\r\n\r\n  x\n \n"];
        foreach (string text in FixtureTexts(name).Concat(extra.Select(System.Text.RegularExpressions.Regex.Unescape)))
        {
            var expected = general.Encode(text);
            var actual = ours.Encode(text);
            string where = JsonSerializer.Serialize(text);
            CollectionAssert.AreEqual(expected.Ids.ToArray(), actual.Ids.ToArray(), where);
            CollectionAssert.AreEqual(expected.Tokens.ToArray(), actual.Tokens.ToArray(), where);
            CollectionAssert.AreEqual(expected.Offsets.ToArray(), actual.Offsets.ToArray(), where);
            CollectionAssert.AreEqual(general.EncodeToIds(text).ToArray(), fast.EncodeToIds(text).ToArray(), where);
            Assert.AreEqual(general.CountTokens(text), fast.CountTokens(text), where);
        }
    }

    [TestMethod]
    public void WrappingOursGivesOursBack()
    {
        Assert.AreSame(Gpt2, Tokenizer.FromMLTokenizer(Gpt2));
        Assert.IsNull(Gpt2.WrappedTokenizer);
        Assert.ThrowsExactly<ArgumentNullException>(() => Tokenizer.FromMLTokenizer(null!));
    }
}
