using System.Text;
using System.Text.Json;
using Peft.Tokenizers.Normalization;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// A byte-level BPE fixture tokenizer (gpt2, llama3, qwen3) with what its properties need: the
/// text its normalizer makes of an input (qwen3: NFC by Hugging Face's Unicode 9.0 tables; the
/// others none) and its added tokens, read from its tokenizer.json.
/// </summary>
internal sealed class ByteLevelFixture
{
    private ByteLevelFixture(string name)
    {
        Name = name;
        Tokenizer = TokenizerFixtureTests.Get(name);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.Folder(name), "tokenizer.json")));
        var normalizer = json.RootElement.GetProperty("normalizer");
        string? normalizerType = normalizer.ValueKind == JsonValueKind.Null ? null : normalizer.GetProperty("type").GetString();
        IsNfc = normalizerType switch
        {
            null => false,
            "NFC" => true,
            _ => throw new InvalidOperationException($"{name}: the properties know no byte-level fixture with a {normalizerType} normalizer."),
        };
        AddedTokens = json.RootElement.GetProperty("added_tokens").EnumerateArray()
            .Select(t => (t.GetProperty("content").GetString()!, t.GetProperty("special").GetBoolean())).ToArray();
    }

    public string Name { get; }

    public Tokenizer Tokenizer { get; }

    /// <summary>The normalizer is NFC (else there is none).</summary>
    public bool IsNfc { get; }

    /// <summary>Every added token's text and whether it is special (skipped by a decode that skips special tokens).</summary>
    public IReadOnlyList<(string Content, bool Special)> AddedTokens { get; }

    /// <summary>The text the normalizer makes of <paramref name="text"/>: what a decode of its encoding must give back.</summary>
    public string Normalized(string text) =>
        IsNfc ? UnicodeNormalization.Normalize(text, NormalizationForm.FormC, UnicodeNormalizationData.HuggingFaceAge) : text;

    /// <summary>True when <paramref name="text"/> contains an added token's text (which encodes to the token's id, not by the model).</summary>
    public bool ContainsAddedToken(string text) => AddedTokens.Any(t => text.Contains(t.Content, StringComparison.Ordinal));

    private static readonly Dictionary<string, ByteLevelFixture> Loaded = [];

    public static ByteLevelFixture Get(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var fixture)) Loaded[name] = fixture = new ByteLevelFixture(name);
            return fixture;
        }
    }
}
