using System.Text.Json;

namespace Peft.Tokenizers.Tests;

[TestClass]
public sealed class TokenizerFixtureTests
{
    private static readonly Dictionary<string, Tokenizer> Loaded = [];

    internal static string Folder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "tokenizers", name);
            if (Directory.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", "fixtures", "tokenizers", name);
            if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("../shared/fixtures/tokenizers not found beside the repository.");
    }

    internal static Tokenizer Get(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var t)) Loaded[name] = t = Tokenizer.Load(Folder(name));
            return t;
        }
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    [DataRow("mistral")]
    [DataRow("unigram_synthetic")]
    public void EveryFixtureCaseMatchesHuggingFace(string name)
    {
        var tokenizer = Get(name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(name), "cases.json")));
        var failures = new List<string>();
        int index = 0, checkedCases = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            // Where the JS reference and Rust differ, Rust is the semantics to follow.
            var expected = c.TryGetProperty("rust", out var rust) ? rust : c;
            string text = c.GetProperty("text").GetString()!;
            bool special = c.GetProperty("add_special_tokens").GetBoolean();
            var ids = expected.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var tokens = expected.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray();
            string decoded = expected.GetProperty("decoded").GetString()!;
            string decodedSkip = expected.GetProperty("decoded_skip_special").GetString()!;
            var encoding = tokenizer.Encode(text, special);
            string Show(string s) => JsonSerializer.Serialize(s);
            if (!encoding.Ids.SequenceEqual(ids))
                failures.Add($"[{index}] {Show(text)} special={special}: ids [{string.Join(",", encoding.Ids)}] expected [{string.Join(",", ids)}]");
            else if (!encoding.Tokens.SequenceEqual(tokens))
                failures.Add($"[{index}] {Show(text)}: tokens {Show(string.Join("|", encoding.Tokens))} expected {Show(string.Join("|", tokens))}");
            string actualDecoded = tokenizer.Decode(ids, false), actualSkip = tokenizer.Decode(ids, true);
            if (actualDecoded != decoded) failures.Add($"[{index}] {Show(text)}: decoded {Show(actualDecoded)} expected {Show(decoded)}");
            if (actualSkip != decodedSkip) failures.Add($"[{index}] {Show(text)}: decoded (skip special) {Show(actualSkip)} expected {Show(decodedSkip)}");
            index++;
            checkedCases++;
        }
        Assert.IsGreaterThan(60, checkedCases);
        Assert.AreEqual(0, failures.Count, $"{name}: {failures.Count} of {checkedCases} cases differ:\n" + string.Join("\n", failures.Take(15)));
    }
}
