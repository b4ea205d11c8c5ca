using System.Text.Json;
using System.Text.RegularExpressions;
using Peft.Tokenizers.AddedTokens;
using Peft.Tokenizers.Decoding;
using Peft.Tokenizers.Models;
using Peft.Tokenizers.Normalization;
using Peft.Tokenizers.PostProcessing;
using Peft.Tokenizers.PreTokenization;

namespace Peft.Tokenizers.Loading;

/// <summary>Builds the pipeline described by a tokenizer.json; every error names the file, the JSON path and what is supported.</summary>
internal sealed class TokenizerJsonReader(string source)
{
    private static readonly string[] Normalizers = ["NFC", "NFD", "NFKC", "NFKD", "Precompiled", "Lowercase", "Strip", "Replace", "Prepend", "Sequence"];
    private static readonly string[] PreTokenizers = ["ByteLevel", "Split", "Metaspace", "Whitespace", "WhitespaceSplit", "Digits", "Punctuation", "Sequence"];
    private static readonly string[] ModelTypes = ["BPE", "Unigram", "WordPiece"];
    private static readonly string[] PostProcessors = ["TemplateProcessing", "ByteLevel", "RobertaProcessing", "BertProcessing", "Sequence"];
    private static readonly string[] Decoders = ["ByteLevel", "Metaspace", "ByteFallback", "Fuse", "Strip", "Replace", "WordPiece", "Sequence"];

    private TokenizerFormatException Error(string path, string problem) => new($"{source}: {path}: {problem}");

    private static string? Type(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private string Unsupported(string kind, string? type, string[] supported) =>
        $"{kind} type '{type ?? "(none)"}' is not supported; supported: {string.Join(", ", supported)}.";

    private static bool Bool(JsonElement e, string name, bool fallback) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.True || (v.ValueKind != JsonValueKind.False && fallback) : fallback;

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public INormalizer? Normalizer(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        return Type(e) switch
        {
            "NFC" => new UnicodeNormalizer(System.Text.NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(System.Text.NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(System.Text.NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(System.Text.NormalizationForm.FormKD),
            "Precompiled" => Precompiled(e, path),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(Bool(e, "strip_left", true), Bool(e, "strip_right", true)),
            "Prepend" => new PrependNormalizer(Str(e, "prepend") ?? throw Error(path + ".prepend", "missing.")),
            "Replace" => Replace(e, path),
            "Sequence" => new SequenceNormalizer(
                e.GetProperty("normalizers").EnumerateArray().Select((n, i) => Normalizer(n, $"{path}.normalizers[{i}]")!).ToArray()),
            var t => throw Error(path, Unsupported("normalizer", t, Normalizers)),
        };
    }

    private PrecompiledNormalizer Precompiled(JsonElement e, string path)
    {
        string base64 = Str(e, "precompiled_charsmap") ?? throw Error(path + ".precompiled_charsmap", "missing (a base64 string).");
        try
        {
            return new PrecompiledNormalizer(Convert.FromBase64String(base64));
        }
        catch (FormatException ex)
        {
            throw Error(path + ".precompiled_charsmap", $"not a SentencePiece charsmap ({ex.Message}).");
        }
    }

    private ReplaceNormalizer Replace(JsonElement e, string path)
    {
        var (literal, regex) = Pattern(e, path);
        return new ReplaceNormalizer(literal, regex, Str(e, "content") ?? "");
    }

    /// <summary>A pattern object: {"String": "..."} or {"Regex": "..."} (Oniguruma syntax, which .NET reads for these classes).</summary>
    private (string? Literal, Regex? Regex) Pattern(JsonElement e, string path)
    {
        if (!e.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
            throw Error(path + ".pattern", "missing (an object with String or Regex).");
        if (Str(p, "String") is { } literal) return (literal, null);
        if (Str(p, "Regex") is { } regex)
        {
            try
            {
                return (null, new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant));
            }
            catch (ArgumentException ex)
            {
                throw Error(path + ".pattern.Regex", $"cannot be read as a regular expression ({ex.Message}).");
            }
        }
        throw Error(path + ".pattern", "needs String or Regex.");
    }

    public IPreTokenizer? PreTokenizer(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        return Type(e) switch
        {
            "ByteLevel" => new ByteLevelPreTokenizer(Bool(e, "add_prefix_space", false), Bool(e, "use_regex", true)),
            "Split" => Split(e, path),
            "Metaspace" => new MetaspacePreTokenizer(Replacement(e), PrependScheme(e), Bool(e, "split", true)),
            "Whitespace" => new WhitespacePreTokenizer(),
            "WhitespaceSplit" => new WhitespaceSplitPreTokenizer(),
            "Digits" => new DigitsPreTokenizer(Bool(e, "individual_digits", false)),
            "Punctuation" => new PunctuationPreTokenizer(Behavior(Str(e, "behavior") ?? "Isolated", path)),
            "Sequence" => new SequencePreTokenizer(
                e.GetProperty("pretokenizers").EnumerateArray().Select((n, i) => PreTokenizer(n, $"{path}.pretokenizers[{i}]")!).ToArray()),
            var t => throw Error(path, Unsupported("pre-tokenizer", t, PreTokenizers)),
        };
    }

    private static char Replacement(JsonElement e) => (Str(e, "replacement") ?? "\u2581")[0];

    /// <summary>The prepend scheme in the new form, or from the legacy add_prefix_space.</summary>
    private static string PrependScheme(JsonElement e) =>
        Str(e, "prepend_scheme") ?? (Bool(e, "add_prefix_space", true) ? "always" : "never");

    private SplitPreTokenizer Split(JsonElement e, string path)
    {
        var (literal, regex) = Pattern(e, path);
        regex ??= new Regex(Regex.Escape(literal!), RegexOptions.CultureInvariant);
        return new SplitPreTokenizer(regex, Behavior(Str(e, "behavior") ?? "Isolated", path + ".behavior"), Bool(e, "invert", false));
    }

    private SplitBehavior Behavior(string name, string path) => name switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw Error(path, $"behavior '{name}' is not supported; supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous."),
    };

    public ITokenizerModel Model(JsonElement e, string path)
    {
        string? type = Type(e);
        if (type is null && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("merges", out _)) type = "BPE";
        switch (type)
        {
            case "BPE":
            {
                var vocab = Vocab(e, path);
                var merges = new List<(string, string)>();
                if (e.TryGetProperty("merges", out var m))
                {
                    int i = 0;
                    foreach (var entry in m.EnumerateArray())
                    {
                        if (entry.ValueKind == JsonValueKind.String)
                        {
                            string text = entry.GetString()!;
                            int space = text.Length < 2 ? -1 : text.IndexOf(' ', 1);
                            if (space < 0) throw Error($"{path}.merges[{i}]", $"\"{text}\" is not two tokens separated by a space.");
                            merges.Add((text[..space], text[(space + 1)..]));
                        }
                        else if (entry.ValueKind == JsonValueKind.Array && entry.GetArrayLength() == 2)
                            merges.Add((entry[0].GetString()!, entry[1].GetString()!));
                        else throw Error($"{path}.merges[{i}]", "must be \"a b\" or [\"a\", \"b\"].");
                        i++;
                    }
                }
                return new BpeModel(vocab, merges, Str(e, "unk_token"), Bool(e, "fuse_unk", false), Bool(e, "byte_fallback", false),
                    Bool(e, "ignore_merges", false), Str(e, "continuing_subword_prefix"), Str(e, "end_of_word_suffix"), $"{source}: {path}");
            }
            case "Unigram":
            {
                var vocab = new List<(string, double)>();
                int i = 0;
                foreach (var entry in e.GetProperty("vocab").EnumerateArray())
                {
                    if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2) throw Error($"{path}.vocab[{i}]", "must be [piece, score].");
                    vocab.Add((entry[0].GetString()!, entry[1].GetDouble()));
                    i++;
                }
                int unk = e.TryGetProperty("unk_id", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt32() : 0;
                return new UnigramModel(vocab, unk, Bool(e, "byte_fallback", false), $"{source}: {path}");
            }
            case "WordPiece":
                return new WordPieceModel(Vocab(e, path), Str(e, "unk_token") ?? "[UNK]", Str(e, "continuing_subword_prefix") ?? "##",
                    e.TryGetProperty("max_input_chars_per_word", out var mx) && mx.ValueKind == JsonValueKind.Number ? mx.GetInt32() : 100);
            default:
                throw Error(path, Unsupported("model", type, ModelTypes));
        }
    }

    private Dictionary<string, int> Vocab(JsonElement e, string path)
    {
        if (!e.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object) throw Error(path + ".vocab", "missing (an object of token: id).");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw Error($"{path}.vocab[\"{p.Name}\"]", "must be a non-negative integer id.");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    /// <param name="e">The post_processor object.</param>
    /// <param name="path">Its JSON path, for messages.</param>
    /// <param name="idOf">A token's id in the vocabulary or added tokens, or null.</param>
    /// <param name="isKnownId">Whether an id is in the vocabulary or added tokens: ids the processor adds must decode.</param>
    public IPostProcessor? PostProcessor(JsonElement e, string path, Func<string, int?> idOf, Func<int, bool> isKnownId)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        int Known(int id, string at) => isKnownId(id) ? id : throw Error(at, $"adds token id {id}, which is neither in the vocabulary nor an added token.");
        (int, string) Token(JsonElement pair, string at)
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2) throw Error(at, "must be [token, id].");
            return (Known(pair[1].GetInt32(), at), pair[0].GetString()!);
        }
        switch (Type(e))
        {
            case "ByteLevel":
                return null;
            case "RobertaProcessing":
            case "BertProcessing":
                return new SurroundProcessing(Token(e.GetProperty("cls"), path + ".cls"), Token(e.GetProperty("sep"), path + ".sep"));
            case "Sequence":
                return new SequenceProcessing(e.GetProperty("processors").EnumerateArray()
                    .Select((p, i) => PostProcessor(p, $"{path}.processors[{i}]", idOf, isKnownId)).OfType<IPostProcessor>().ToArray());
            case "TemplateProcessing":
            {
                var specials = new Dictionary<string, (int[] Ids, string[] Tokens)>(StringComparer.Ordinal);
                if (e.TryGetProperty("special_tokens", out var st))
                    foreach (var p in st.EnumerateObject())
                        specials[p.Name] = (
                            p.Value.GetProperty("ids").EnumerateArray().Select(x => Known(x.GetInt32(), $"{path}.special_tokens.{p.Name}")).ToArray(),
                            p.Value.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray());
                var items = new List<(bool, int[], string[])>();
                int i = 0;
                foreach (var item in e.GetProperty("single").EnumerateArray())
                {
                    if (item.TryGetProperty("Sequence", out _)) items.Add((true, [], []));
                    else if (item.TryGetProperty("SpecialToken", out var s))
                    {
                        string name = Str(s, "id") ?? throw Error($"{path}.single[{i}].SpecialToken.id", "missing (a string naming the token).");
                        if (!specials.TryGetValue(name, out var special))
                        {
                            int id = idOf(name)
                                ?? throw Error($"{path}.single[{i}]", $"special token '{name}' is neither in special_tokens nor in the vocabulary.");
                            special = ([id], [name]);
                        }
                        items.Add((false, special.Ids, special.Tokens));
                    }
                    else throw Error($"{path}.single[{i}]", "must be a Sequence or a SpecialToken.");
                    i++;
                }
                return new TemplateProcessing(items);
            }
            default:
                throw Error(path, Unsupported("post-processor", Type(e), PostProcessors));
        }
    }

    public IDecoder? Decoder(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        return Type(e) switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "Replace" => new ReplaceDecoder(
                Pattern(e, path).Literal ?? throw Error(path + ".pattern", "a Replace decoder needs a String pattern."), Str(e, "content") ?? ""),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder((Str(e, "content") ?? " ")[0], e.TryGetProperty("start", out var a) ? a.GetInt32() : 0,
                e.TryGetProperty("stop", out var b) ? b.GetInt32() : 0),
            "Metaspace" => new MetaspaceDecoder(Replacement(e), PrependScheme(e) != "never"),
            "WordPiece" => new WordPieceDecoder(Str(e, "prefix") ?? "##"),
            "Sequence" => new SequenceDecoder(e.GetProperty("decoders").EnumerateArray().Select((d, i) => Decoder(d, $"{path}.decoders[{i}]")!).ToArray()),
            var t => throw Error(path, Unsupported("decoder", t, Decoders)),
        };
    }

    public List<AddedToken> AddedTokens(JsonElement root)
    {
        var result = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind != JsonValueKind.Array) return result;
        int i = 0;
        foreach (var t in list.EnumerateArray())
        {
            if (!t.TryGetProperty("id", out var id) || Str(t, "content") is not { } content) throw Error($"added_tokens[{i}]", "needs id and content.");
            result.Add(new AddedToken(id.GetInt32(), content, Bool(t, "special", false), Bool(t, "single_word", false), Bool(t, "lstrip", false),
                Bool(t, "rstrip", false), Bool(t, "normalized", false)));
            i++;
        }
        return result;
    }
}
