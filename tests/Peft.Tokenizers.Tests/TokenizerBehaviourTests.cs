using System.Text.Json.Nodes;

namespace Peft.Tokenizers.Tests;

[TestClass]
public sealed class TokenizerBehaviourTests
{
    /// <summary>A small tokenizer.json around a vocabulary, with the given pipeline parts.</summary>
    private static Tokenizer Build(JsonObject model, JsonNode? preTokenizer = null, JsonNode? normalizer = null, JsonNode? postProcessor = null,
        JsonNode? decoder = null, JsonArray? added = null) =>
        Tokenizer.FromJson(new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added ?? [],
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = postProcessor,
            ["decoder"] = decoder,
            ["model"] = model,
        }.ToJsonString(), "test tokenizer.json");

    private static JsonObject Vocab(params string[] tokens)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < tokens.Length; i++) vocab[tokens[i]] = i;
        return vocab;
    }

    [TestMethod]
    public void WordPieceWithBertProcessingAndItsDecoder()
    {
        var tokenizer = Build(
            new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##",
                ["vocab"] = Vocab("[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", "!") },
            preTokenizer: new JsonObject { ["type"] = "Whitespace" },
            normalizer: new JsonObject { ["type"] = "Lowercase" },
            postProcessor: new JsonObject { ["type"] = "BertProcessing", ["cls"] = new JsonArray("[CLS]", 1), ["sep"] = new JsonArray("[SEP]", 2) },
            decoder: new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##" },
            added: [new JsonObject { ["id"] = 1, ["content"] = "[CLS]", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "[SEP]", ["special"] = true }]);
        var encoding = tokenizer.Encode("Unaffable HELLO! xyz", addSpecialTokens: true);
        CollectionAssert.AreEqual(new[] { "[CLS]", "un", "##aff", "##able", "hello", "!", "[UNK]", "[SEP]" }, encoding.Tokens.ToArray());
        Assert.AreEqual("unaffable hello ! [UNK]", tokenizer.Decode(encoding.Ids, skipSpecialTokens: true));
    }

    [TestMethod]
    [DataRow("Removed", false, "a|b|c")]
    [DataRow("Isolated", false, "a|-|b|-|-|c")]
    [DataRow("MergedWithPrevious", false, "a-|b-|-|c")]
    [DataRow("MergedWithNext", false, "a|-b|-|-c")]
    [DataRow("Contiguous", false, "a|-|b|--|c")]
    [DataRow("Removed", true, "-|-|-")]
    public void SplitBehavioursMatchTheRustLibrary(string behavior, bool invert, string expected)
    {
        var tokenizer = Build(
            new JsonObject { ["type"] = "BPE", ["vocab"] = Vocab("a", "b", "c", "-", "--", "a-", "b-", "-b", "-c"),
                ["merges"] = new JsonArray("- -", "a -", "b -", "- b", "- c") },
            preTokenizer: new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = "-" }, ["behavior"] = behavior,
                ["invert"] = invert });
        Assert.AreEqual(expected, string.Join("|", tokenizer.Encode("a-b--c", false).Tokens));
    }

    [TestMethod]
    public void DigitsPunctuationAndAddedTokenFlags()
    {
        var digits = Build(new JsonObject { ["type"] = "BPE", ["vocab"] = Vocab("1", "2", "3", "12", "x"), ["merges"] = new JsonArray("1 2") },
            preTokenizer: new JsonObject { ["type"] = "Digits", ["individual_digits"] = true });
        CollectionAssert.AreEqual(new[] { "1", "2", "3", "x" }, digits.Encode("123x", false).Tokens.ToArray());

        var punctuation = Build(new JsonObject { ["type"] = "BPE", ["vocab"] = Vocab("h", "i", "hi", "!", "?"), ["merges"] = new JsonArray("h i") },
            preTokenizer: new JsonObject { ["type"] = "Punctuation" });
        CollectionAssert.AreEqual(new[] { "hi", "!", "?" }, punctuation.Encode("hi!?", false).Tokens.ToArray());

        var added = Build(new JsonObject { ["type"] = "BPE", ["vocab"] = Vocab("a", " ", "<m>"), ["merges"] = new JsonArray() },
            added: [new JsonObject { ["id"] = 2, ["content"] = "<m>", ["lstrip"] = true, ["rstrip"] = true, ["special"] = true },
                    new JsonObject { ["id"] = 3, ["content"] = "b", ["single_word"] = true }]);
        CollectionAssert.AreEqual(new[] { "a", "<m>", "a" }, added.Encode("a  <m> a", false).Tokens.ToArray(), "lstrip/rstrip take the spaces around");
        CollectionAssert.AreEqual(new[] { 0, 1, 3 }, added.Encode("a b", false).Ids.ToArray(), "single_word matches a whole word");
        CollectionAssert.AreEqual(new[] { 0 }, added.Encode("ab", false).Ids.ToArray(),
            "inside a word 'b' is plain text, which the model's vocabulary lacks (no unk: dropped, as Hugging Face does)");
    }

    [TestMethod]
    public void BatchEncodingPadsLeftOrRightAndTruncates()
    {
        var tokenizer = TokenizerFixtureTests.Get("gpt2");
        var right = tokenizer.EncodeBatch(["Hello world", "Hi"], side: PaddingSide.Right, padTokenId: 50256);
        Assert.AreEqual(2, right.Ids.GetLength(1));
        Assert.AreEqual(50256, right.Ids[1, 1]);
        Assert.AreEqual(0, right.AttentionMask[1, 1]);
        var left = tokenizer.EncodeBatch(["Hello world", "Hi"], side: PaddingSide.Left, padTokenId: 50256);
        Assert.AreEqual(50256, left.Ids[1, 0]);
        Assert.AreEqual(1, left.AttentionMask[1, 1]);
        var cut = tokenizer.EncodeBatch(["one two three four five"], maxLength: 3);
        Assert.AreEqual(3, cut.Ids.GetLength(1));
    }

    [TestMethod]
    public void StreamingDecodingHoldsBackHalfACharacter()
    {
        var tokenizer = TokenizerFixtureTests.Get("gpt2");
        var ids = tokenizer.Encode("ok 😀 done", false).Ids;
        var stream = tokenizer.CreateStreamingDecoder();
        var pieces = ids.Select(stream.Add).ToList();
        pieces.Add(stream.Flush());
        Assert.AreEqual("ok 😀 done", string.Concat(pieces), string.Join(" | ", pieces.Select(p => System.Text.Json.JsonSerializer.Serialize(p))));
        Assert.IsFalse(pieces.Any(p => p.Contains('\uFFFD')), "no replacement character is ever emitted");
        Assert.IsTrue(pieces.Count(p => p.Length == 0) >= 1, "the emoji's first byte tokens give nothing until it is complete");
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("mistral")]
    [DataRow("qwen3")]
    [DataRow("unigram_synthetic")]
    public void StreamedTextEqualsTheWholeDecode(string name)
    {
        var tokenizer = TokenizerFixtureTests.Get(name);
        // Leading and repeated spaces, newlines, accents, emoji (byte fallback / byte-level pieces) and CJK.
        string text = "  Hello world,\n  naïve café 😀 done.\t日本語 x  y 🙂🙂 end";
        var ids = tokenizer.Encode(text, false).Ids;
        foreach (bool skip in new[] { true, false })
        {
            var stream = tokenizer.CreateStreamingDecoder(skip);
            var pieces = ids.Select(stream.Add).ToList();
            pieces.Add(stream.Flush());
            Assert.AreEqual(tokenizer.Decode(ids, skip), string.Concat(pieces),
                $"{name}: " + string.Join(" | ", pieces.Select(p => System.Text.Json.JsonSerializer.Serialize(p))));
        }
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    public void LongInputsCompleteAndRoundTrip(string name)
    {
        var tokenizer = TokenizerFixtureTests.Get(name);
        var random = new Random(3);
        string[] words = ["the", "model", "learns", "adapters,", "quickly;", "42", "naïve", "café", "  ", "\t", "🙂", "日本"];
        var line = new System.Text.StringBuilder();
        while (line.Length < 1_000_000) line.Append(words[random.Next(words.Length)]).Append(' ');
        foreach (string text in new[] { line.ToString(), new string(' ', 100_000), new string('a', 100_000), new string('\n', 50_000) + "x" })
        {
            var ids = tokenizer.Encode(text, false).Ids;
            Assert.AreEqual(text, tokenizer.Decode(ids), $"{name}: round trip of {text.Length} chars");
        }
    }

    [TestMethod]
    public void BadFilesAndIdsFailWithMessagesThatSayWhere()
    {
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson("{\"model\": {\"type\": \"Fancy\"}}", "x.json")).Message,
            "model type 'Fancy' is not supported; supported: BPE, Unigram, WordPiece");
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson("{\"model\": \n {", "x.json")).Message, "line 2");
        var badMerge = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\", \"a z\"]}}";
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(badMerge, "x.json")).Message, "merges[0]");
        var oneMerge = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"c\": 3}, \"merges\": [\"a b\", \"a z\"]}}";
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(oneMerge, "x.json")).Message, "model.merges[1] \"a z\"");
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(
            "{\"normalizer\": {\"type\": \"Fancy\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", "x.json")).Message,
            "normalizer type 'Fancy'");
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(
            "{\"normalizer\": {\"type\": \"Precompiled\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", "x.json")).Message,
            "normalizer.precompiled_charsmap: missing");
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(
            "{\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"AQAAAA==\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", "x.json")).Message,
            "not a SentencePiece charsmap");
        var tokenizer = TokenizerFixtureTests.Get("gpt2");
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tokenizer.Decode([1, 60000]));
        StringAssert.Contains(error.Message, "60000");
        StringAssert.Contains(error.Message, "50257");
        Assert.ThrowsExactly<FileNotFoundException>(() => Tokenizer.Load(Path.GetTempPath()));
        Assert.IsNull(Tokenizer.TryLoad(Path.GetTempPath()));
    }

    /// <summary>
    /// Unigram fuses consecutive unknown characters into one unk token that keeps their text (as the Rust library does), at
    /// the start, between pieces and at the end; a 100,000-character unknown stretch is one token too (it was built by
    /// appending a character at a time, quadratic: an afl input of 32 KB took 3 s).
    /// </summary>
    [TestMethod]
    public void UnigramFusesUnknownStretchesIntoOneTokenWithTheirText()
    {
        var tokenizer = Tokenizer.FromJson(
            "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0], [\"a\", -1], [\"b\", -2]]}}", "unigram.json");
        string stretch = new('q', 100_000);
        string text = "xyab" + stretch + "a" + "zz";
        var encoded = tokenizer.Encode(text, addSpecialTokens: false);
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 0, 1, 0 }, encoded.Ids.ToArray());
        CollectionAssert.AreEqual(new[] { "xy", "a", "b", stretch, "a", "zz" }, encoded.Tokens.ToArray());
        CollectionAssert.AreEqual(new[] { (0, 2), (2, 3), (3, 4), (4, 100_004), (100_004, 100_005), (100_005, 100_007) }, encoded.Offsets.ToArray());
    }

    [TestMethod]
    public void SpecialTokenIdsComeFromTheTokenizerConfig()
    {
        var llama = TokenizerFixtureTests.Get("llama3");
        Assert.AreEqual(128000, llama.BosTokenId);
        Assert.IsNotNull(llama.EosTokenId);
        Assert.IsTrue(llama.IsSpecial(128000));
        Assert.AreEqual(128256, llama.VocabularySize);
    }

    [TestMethod]
    public void BpeWithoutUnkDropsWhatItCannotRepresentAsHuggingFaceDoes()
    {
        // tokenizers' BPE adds no symbol for a character outside the vocabulary when there is no unk token.
        string Json(string? unk) => new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = new JsonObject { ["a"] = 0, ["b"] = 1, ["ab"] = 2, ["<unk>"] = 3 },
                ["merges"] = new JsonArray("a b"), ["unk_token"] = unk,
            },
        }.ToJsonString();
        CollectionAssert.AreEqual(new[] { 2 }, Tokenizer.FromJson(Json(null)).Encode("acb", false).Ids.ToArray(), "c dropped, then a b merge");
        CollectionAssert.AreEqual(new[] { 0, 3, 1 }, Tokenizer.FromJson(Json("<unk>")).Encode("acb", false).Ids.ToArray());
        var missing = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(Json("[UNK]")).Encode("acb", false));
        StringAssert.Contains(missing.Message, "unk_token '[UNK]' is not in the vocabulary");
    }
}
