using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tokenizers.Normalization;

namespace Peft.Tokenizers.Tests.Normalization;

/// <summary>
/// normalization_cases.json (see README.md here): Hugging Face's Rust tokenizers' ids, tokens and
/// normalized text for texts from every block that composes or decomposes, under NFC, NFD, NFKC,
/// NFKD and a SentencePiece Precompiled charsmap; and digests of its normalizers over every code
/// point and 20000 pseudo-random strings.
/// </summary>
[TestClass]
public sealed class NormalizationFixtureTests
{
    private static readonly Lazy<JsonDocument> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(NormalizationConformanceTests.DataFile("normalization_cases.json"))));
    private static readonly Dictionary<string, Tokenizer> Built = [];

    /// <summary>The fixture's tokenizer: its base from ../shared/fixtures/tokenizers, normalizer replaced as the generator did.</summary>
    private static Tokenizer Build(string name)
    {
        lock (Built)
        {
            if (Built.TryGetValue(name, out var t)) return t;
            var spec = Fixture.Value.RootElement.GetProperty("tokenizers").GetProperty(name);
            string baseFile = Path.Combine(TokenizerFixtureTests.Folder(spec.GetProperty("base").GetString()!), "tokenizer.json");
            string baseText = File.ReadAllText(baseFile);
            Assert.AreEqual(spec.GetProperty("base_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(baseFile))), $"{baseFile} changed since the fixture was made");
            string json = baseText;
            JsonNode? normalizer = spec.TryGetProperty("normalizer", out var n) ? JsonNode.Parse(n.GetRawText())
                : spec.TryGetProperty("normalizer_file", out var f) ? JsonNode.Parse(File.ReadAllText(NormalizationConformanceTests.DataFile(f.GetString()!))) : null;
            if (normalizer is not null)
            {
                var root = JsonNode.Parse(baseText)!;
                root["normalizer"] = normalizer;
                json = root.ToJsonString();
            }
            return Built[name] = Tokenizer.FromJson(json, name);
        }
    }

    [TestMethod]
    [DataRow("qwen3")]
    [DataRow("unigram_nfkc")]
    [DataRow("unigram_nfc")]
    [DataRow("unigram_nfd")]
    [DataRow("unigram_nfkd")]
    [DataRow("unigram_precompiled")]
    public void EveryCaseMatchesHuggingFace(string name)
    {
        var tokenizer = Build(name);
        var failures = new List<string>();
        var categories = new HashSet<string>();
        int count = 0;
        foreach (var c in Fixture.Value.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("tokenizer").GetString() != name) continue;
            string text = c.GetProperty("text").GetString()!;
            string hex = NormalizationConformanceTests.Hex(text);
            string category = c.GetProperty("category").GetString()!;
            categories.Add(category);
            string expectedNormalized = c.GetProperty("normalized").GetString()!;
            string normalized = tokenizer.Normalize(text);
            if (normalized != expectedNormalized)
                failures.Add($"{category} [{hex}]: normalized [{NormalizationConformanceTests.Hex(normalized)}], expected [{NormalizationConformanceTests.Hex(expectedNormalized)}]");
            var ids = c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var tokens = c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray();
            var encoding = tokenizer.Encode(text, false);
            if (!encoding.Ids.SequenceEqual(ids))
                failures.Add($"{category} [{hex}]: ids [{string.Join(",", encoding.Ids)}], expected [{string.Join(",", ids)}]");
            else if (!encoding.Tokens.SequenceEqual(tokens))
                failures.Add($"{category} [{hex}]: tokens {JsonSerializer.Serialize(encoding.Tokens)}, expected {JsonSerializer.Serialize(tokens)}");
            count++;
        }
        Assert.IsGreaterThan(150, count);
        Assert.IsGreaterThan(15, categories.Count);
        Assert.AreEqual(0, failures.Count, $"{name}: {failures.Count} of {count} cases differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [TestMethod]
    [DataRow("qwen3")]
    [DataRow("unigram_nfkc")]
    [DataRow("unigram_nfd")]
    [DataRow("unigram_nfkd")]
    [DataRow("unigram_precompiled")]
    public void OffsetsOfNormalizedTextPointIntoTheInput(string name)
    {
        var tokenizer = Build(name);
        foreach (var c in Fixture.Value.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("tokenizer").GetString() != name) continue;
            string text = c.GetProperty("text").GetString()!;
            var encoded = tokenizer.Encode(text, false);
            int previous = 0;
            var covered = new bool[text.Length];
            foreach (var (start, end) in encoded.Offsets)
            {
                Assert.IsTrue(start >= 0 && start <= end && end <= text.Length, $"{name} [{NormalizationConformanceTests.Hex(text)}]: ({start}, {end})");
                Assert.IsGreaterThanOrEqualTo(previous, start, $"{name} [{NormalizationConformanceTests.Hex(text)}]: starts go forward");
                previous = start;
                for (int i = start; i < end; i++) covered[i] = true;
            }
            // qwen3 keeps every character (byte-level BPE, no whitespace dropped): each belongs to a token.
            if (name == "qwen3") Assert.IsTrue(covered.All(x => x), $"qwen3 [{NormalizationConformanceTests.Hex(text)}]: every character is covered");
        }
        // A composed syllable spans the jamo it came from; an expansion's pieces span the one character.
        var jamo = Build("qwen3").Encode("\u1100\u1161\u11A8", false);
        Assert.AreEqual((0, 3), (jamo.Offsets[0].Start, jamo.Offsets[^1].End));
        var ligature = Build("unigram_nfkc").Encode("\uFB01", false);
        Assert.IsTrue(ligature.Offsets.All(o => o == (0, 1)), string.Join(" ", ligature.Offsets));
    }

    private static string HexLine(string s)
    {
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
            b.Append(b.Length == 0 ? "" : " ").Append(char.ConvertToUtf32(s, i).ToString("X", CultureInfo.InvariantCulture));
        return b.ToString();
    }

    private static List<int> Pool(string ranges)
    {
        var pool = new List<int>();
        foreach (string r in ranges.Split(' '))
        {
            var parts = r.Split('-');
            int from = int.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            int to = parts.Length > 1 ? int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : from;
            for (int cp = from; cp <= to; cp++) pool.Add(cp);
        }
        return pool;
    }

    [TestMethod]
    [DataRow("NFC")]
    [DataRow("NFD")]
    [DataRow("NFKC")]
    [DataRow("NFKD")]
    [DataRow("Precompiled")]
    public void EveryCodePointAndRandomStringsMatchHuggingFace(string form)
    {
        var sweeps = Fixture.Value.RootElement.GetProperty("sweeps");
        var expected = sweeps.GetProperty("forms").GetProperty(form);
        Func<string, string> normalize;
        if (form == "Precompiled")
        {
            var charsmap = JsonNode.Parse(File.ReadAllText(NormalizationConformanceTests.DataFile("precompiled_nmt_nfkc.json")))!["normalizers"]![0]!["precompiled_charsmap"]!.GetValue<string>();
            var normalizer = new PrecompiledNormalizer(Convert.FromBase64String(charsmap));
            normalize = s => normalizer.Normalize(AlignedText.Identity(s, 0)).Text;
        }
        else
        {
            var f = form switch { "NFC" => NormalizationForm.FormC, "NFD" => NormalizationForm.FormD, "NFKC" => NormalizationForm.FormKC, _ => NormalizationForm.FormKD };
            // Hugging Face's Rust tokenizers normalize by Unicode 9.0 (unicode-normalization-alignments).
            normalize = s => UnicodeNormalization.Normalize(s, f, UnicodeNormalizationData.HuggingFaceAge);
        }

        var changed = new StringBuilder();
        int changedCount = 0;
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            string s = char.ConvertFromUtf32(cp);
            string output = normalize(s);
            if (output == s) continue;
            changed.Append(cp.ToString("X", CultureInfo.InvariantCulture)).Append('\t').Append(HexLine(output)).Append('\n');
            changedCount++;
        }
        Assert.AreEqual(expected.GetProperty("changed_code_points").GetInt32(), changedCount, $"{form}: number of code points that change");
        Assert.AreEqual(expected.GetProperty("code_points_sha256").GetString(), Sha256(changed), $"{form}: code point digest");

        var pool = Pool(sweeps.GetProperty("pool").GetString()!);
        uint x = sweeps.GetProperty("seed").GetUInt32();
        int Next(int m)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            return (int)(x % (uint)m);
        }
        var random = new StringBuilder();
        var text = new StringBuilder();
        int strings = expected.GetProperty("random_strings").GetInt32();
        for (int k = 0; k < strings; k++)
        {
            text.Clear();
            int length = 1 + Next(8);
            for (int j = 0; j < length; j++) text.Append(char.ConvertFromUtf32(pool[Next(pool.Count)]));
            string s = text.ToString();
            random.Append(HexLine(s)).Append('\t').Append(HexLine(normalize(s))).Append('\n');
        }
        Assert.AreEqual(expected.GetProperty("random_sha256").GetString(), Sha256(random), $"{form}: random strings digest");
    }

    private static string Sha256(StringBuilder text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
}
