using System.Text.Json;
using Peft.Tokenizers.AddedTokens;
using Peft.Tokenizers.Decoding;
using Peft.Tokenizers.Interop;
using Peft.Tokenizers.Loading;
using Peft.Tokenizers.Models;
using Peft.Tokenizers.Normalization;
using Peft.Tokenizers.PostProcessing;
using Peft.Tokenizers.PreTokenization;

namespace Peft.Tokenizers;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> tokenizer with the Rust library's semantics: added tokens
/// matched in the raw text, then per stretch normalizer, pre-tokenizer and model (BPE, Unigram,
/// WordPiece), then the post-processor's special tokens; decoding through the decoder chain.
/// It is also a <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, so it goes wherever ML.NET expects
/// one; and <see cref="FromMLTokenizer"/> wraps any ML.NET tokenizer into this type, so every
/// Peft.MLNet API that takes a <see cref="Tokenizer"/> takes theirs too.
/// </summary>
public sealed partial class Tokenizer : Microsoft.ML.Tokenizers.Tokenizer
{
    /// <summary>The tokenizer file name in a model folder.</summary>
    public const string FileName = "tokenizer.json";

    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private readonly ITokenizerModel _model;
    private readonly IPostProcessor? _postProcessor;
    private readonly IDecoder? _decoder;
    private readonly AddedVocabulary _added;

    // Set when this wraps an ML.NET tokenizer: encoding and decoding go to it instead.
    private readonly MLTokenizerBackend? _foreign;

    // Special tokens the post-processor adds before and after a text (ML.NET offsets and the fast ids path).
    private readonly (int Before, int After)? _postProcessorCounts;

    // The split pattern when the pipeline is byte-level BPE that ByteLevelIds encodes directly, else null.
    private readonly PerThreadRegex? _byteLevelSplit;

    private Tokenizer(INormalizer? normalizer, IPreTokenizer? preTokenizer, ITokenizerModel model, IPostProcessor? postProcessor, IDecoder? decoder,
        AddedVocabulary added)
    {
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor;
        _decoder = decoder;
        _added = added;
        _postProcessorCounts = CountPostProcessorTokens(postProcessor);
        _byteLevelSplit = model is BpeModel && normalizer is null or UnicodeNormalizer ? ByteLevelIds.PatternOf(preTokenizer) : null;
        VocabularySize = Math.Max(model.VocabularySize, added.All.Count == 0 ? 0 : added.All.Max(t => t.Id) + 1);
    }

    /// <summary>Number of ids (model vocabulary and added tokens).</summary>
    public int VocabularySize { get; }

    /// <summary>The beginning-of-sequence id from tokenizer_config.json, when known.</summary>
    public int? BosTokenId { get; private set; }

    /// <summary>The end-of-sequence id from tokenizer_config.json, when known.</summary>
    public int? EosTokenId { get; private set; }

    /// <summary>The padding id from tokenizer_config.json, when known.</summary>
    public int? PadTokenId { get; private set; }

    /// <summary>The unknown-token id from tokenizer_config.json, when known.</summary>
    public int? UnkTokenId { get; private set; }

    /// <summary>
    /// Loads a tokenizer.json file, or the one in a folder (with tokenizer_config.json beside it
    /// when present). A folder without tokenizer.json but with a SentencePiece model
    /// (tokenizer.model, spiece.model, sentencepiece.bpe.model), or such a file itself, loads
    /// through ML.NET's SentencePiece tokenizer (see <see cref="FromMLTokenizer"/>), its special
    /// tokens and bos/eos settings from tokenizer_config.json.
    /// </summary>
    /// <exception cref="FileNotFoundException">No tokenizer.json (nor SentencePiece model) there.</exception>
    /// <exception cref="TokenizerFormatException">Malformed JSON or an unsupported component; the message names the file and the JSON path.</exception>
    public static Tokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file) && Directory.Exists(path) && SentencePieceFiles.Find(path) is { } model) return SentencePieceFiles.Load(model);
        if (File.Exists(file) && file.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return SentencePieceFiles.Load(file);
        if (!File.Exists(file)) throw new FileNotFoundException($"No {FileName} at {path}.", file);
        var tokenizer = FromJson(File.ReadAllText(file), file);
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "tokenizer_config.json");
        if (File.Exists(config)) tokenizer.ReadSpecialTokens(config);
        return tokenizer;
    }

    /// <summary>The tokenizer of a model folder, or null when it has neither tokenizer.json nor a SentencePiece model.</summary>
    public static Tokenizer? TryLoad(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return File.Exists(Path.Combine(folder, FileName)) || SentencePieceFiles.Find(folder) is not null ? Load(folder) : null;
    }

    /// <summary>Builds a tokenizer from tokenizer.json text; <paramref name="source"/> names it in messages.</summary>
    public static Tokenizer FromJson(string json, string source = "<tokenizer.json>")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new TokenizerFormatException($"{source}: not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine} ({ex.Message}).", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var modelJson))
                throw new TokenizerFormatException($"{source}: not a tokenizer.json (no 'model' object).");
            var reader = new TokenizerJsonReader(source);
            try
            {
                var model = reader.Model(modelJson, "model");
                var added = new AddedVocabulary(reader.AddedTokens(root));
                int? IdOf(string token) => added.ByContent(token)?.Id ?? model.TokenToId(token);
                bool IsKnownId(int id) => added.ById(id) is not null || model.IdToToken(id) is not null;
                return new Tokenizer(
                    root.TryGetProperty("normalizer", out var n) ? reader.Normalizer(n, "normalizer") : null,
                    root.TryGetProperty("pre_tokenizer", out var p) ? reader.PreTokenizer(p, "pre_tokenizer") : null,
                    model,
                    root.TryGetProperty("post_processor", out var pp) ? reader.PostProcessor(pp, "post_processor", IdOf, IsKnownId) : null,
                    root.TryGetProperty("decoder", out var d) ? reader.Decoder(d, "decoder") : null,
                    added);
            }
            // JsonElement reports a field of the wrong kind or an array too short with these; none of them can come from a valid file.
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException
                or IndexOutOfRangeException or OverflowException)
            {
                throw new TokenizerFormatException($"{source}: a field has the wrong type or is missing ({ex.Message}).", ex);
            }
        }
    }

    private void ReadSpecialTokens(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        int? Id(string name)
        {
            if (!doc.RootElement.TryGetProperty(name, out var v)) return null;
            string? content = v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("content", out var c) => c.GetString(),
                _ => null,
            };
            return content is null ? null : TokenToId(content);
        }
        BosTokenId = Id("bos_token");
        EosTokenId = Id("eos_token");
        PadTokenId = Id("pad_token");
        UnkTokenId = Id("unk_token");
    }

    /// <summary>The id of a token string (added tokens first), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _added.ByContent(token)?.Id ?? _model.TokenToId(token);
    }

    /// <summary>The token string of an id, or null.</summary>
    public string? IdToToken(int id) => _added.ById(id)?.Content ?? _model.IdToToken(id);

    /// <summary>True when <paramref name="id"/> is a special added token.</summary>
    public bool IsSpecial(int id) => _foreign?.IsSpecial(id) ?? _added.ById(id)?.Special == true;

    /// <summary>
    /// The normalizer's output for the whole of <paramref name="text"/> (added tokens not split out), for tests against
    /// Hugging Face's normalize_str.
    /// </summary>
    internal string Normalize(string text) => _normalizer?.Normalize(AlignedText.Identity(text, 0)).Text ?? text;

    /// <summary>Encodes <paramref name="text"/> (with the post-processor's special tokens when <paramref name="addSpecialTokens"/>).</summary>
    public EncodedText Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_foreign is not null) return _foreign.Encode(text, addSpecialTokens);
        return EncodeCore(text, addSpecialTokens, normalize: true, preTokenize: true);
    }

    /// <summary>The pipeline, with normalization or pre-tokenizer splitting optionally left out (ML.NET's consider* flags).</summary>
    private EncodedText EncodeCore(string text, bool addSpecialTokens, bool normalize, bool preTokenize)
    {
        if (preTokenize && ByteLevelFast(text, normalize) is var (bpe, split)) return EncodeByteLevel(text, addSpecialTokens, bpe, split);
        var normalizer = normalize ? _normalizer : null;
        var preTokenizer = preTokenize ? _preTokenizer : _preTokenizer?.WithoutSplitting();
        // About one token per three characters in prose: most texts fill these without regrowing.
        int capacity = text.Length / 3 + 4;
        var ids = new List<int>(capacity);
        var tokens = new List<string>(capacity);
        var offsets = new List<(int Start, int End)>(capacity);
        var pieces = new List<AlignedText>();
        var spans = new List<(int Start, int End)>(capacity);
        bool first = true;
        foreach (var (start, length, token) in _added.Split(text))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                tokens.Add(token.Content);
                offsets.Add((start, start + length));
                first = false;
                continue;
            }
            var segment = AlignedText.Identity(start == 0 && length == text.Length ? text : text.Substring(start, length), start);
            var normalized = normalizer?.Normalize(segment) ?? segment;
            pieces.Clear();
            if (preTokenizer is null) pieces.Add(normalized);
            else preTokenizer.Split(normalized, first, pieces);
            foreach (var piece in pieces)
            {
                spans.Clear();
                _model.Tokenize(piece.Text, ids, tokens, spans);
                foreach (var (from, to) in spans) offsets.Add(piece.Span(from, to));
            }
            first = false;
        }
        if (addSpecialTokens) _postProcessor?.Process(ids, tokens, offsets);
        return new EncodedText(ids, tokens, offsets);
    }

    /// <summary>
    /// The BPE model and split pattern when the pipeline is plain byte-level BPE (GPT-2's ByteLevel, or
    /// Split then ByteLevel as Llama 3 and Qwen have it; no prefix space) and normalization leaves
    /// <paramref name="text"/> as it is (none, or a Unicode form it is already in), which
    /// <see cref="PreTokenization.ByteLevelIds"/> encodes without the general path's per-piece strings
    /// and span arrays; else null.
    /// </summary>
    private (BpeModel Model, PerThreadRegex Split)? ByteLevelFast(string text, bool normalize)
    {
        if (_byteLevelSplit is not { } split || _foreign is not null) return null;
        if (normalize && _normalizer is UnicodeNormalizer unicode && UnicodeNormalization.QuickLength(text, unicode.Form, unicode.MaxAge) != text.Length)
            return null;
        return ((BpeModel)_model, split);
    }

    private EncodedText EncodeByteLevel(string text, bool addSpecialTokens, BpeModel bpe, PerThreadRegex split)
    {
        int capacity = text.Length / 3 + 4;
        var ids = new List<int>(capacity);
        var tokens = new List<string>(capacity);
        var offsets = new List<(int Start, int End)>(capacity);
        foreach (var (start, length, token) in _added.Split(text))
        {
            if (token is null)
            {
                ByteLevelIds.Encode(text.AsSpan(start, length), start, bpe, split, ids, tokens, offsets);
                continue;
            }
            ids.Add(token.Id);
            tokens.Add(token.Content);
            offsets.Add((start, start + length));
        }
        if (addSpecialTokens) _postProcessor?.Process(ids, tokens, offsets);
        return new EncodedText(ids, tokens, offsets);
    }

    /// <summary>Decodes ids to text through the decoder chain (no clean-up of spaces).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (_foreign is not null) return _foreign.Decode(ids, skipSpecialTokens);
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
        {
            var added = _added.ById(id);
            if (added is not null)
            {
                if (!(skipSpecialTokens && added.Special)) tokens.Add(added.Content);
                continue;
            }
            tokens.Add(_model.IdToToken(id)
                ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {VocabularySize}."));
        }
        if (tokens.Count == 0) return "";
        return _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens));
    }

    /// <summary>
    /// Encodes several texts into rectangular ids and attention masks: rows longer than
    /// <paramref name="maxLength"/> are cut, shorter ones padded on <paramref name="side"/> with the
    /// pad id (<paramref name="padTokenId"/>, else the tokenizer's, else 0).
    /// </summary>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true, PaddingSide side = PaddingSide.Right, int? maxLength = null,
        int? padTokenId = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (maxLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 1.");
        var rows = texts.Select(t => Encode(t, addSpecialTokens).Ids)
            .Select(ids => maxLength is int m && ids.Count > m ? ids.Take(m).ToArray() : ids.ToArray()).ToArray();
        int length = rows.Length == 0 ? 0 : rows.Max(r => r.Length);
        int pad = padTokenId ?? PadTokenId ?? 0;
        var ids = new int[rows.Length, length];
        var mask = new int[rows.Length, length];
        for (int b = 0; b < rows.Length; b++)
        {
            int offset = side == PaddingSide.Left ? length - rows[b].Length : 0;
            for (int t = 0; t < length; t++) ids[b, t] = pad;
            for (int t = 0; t < rows[b].Length; t++)
            {
                ids[b, offset + t] = rows[b][t];
                mask[b, offset + t] = 1;
            }
        }
        return new BatchEncoding(ids, mask);
    }

    /// <summary>A decoder for ids arriving one at a time (generation) that only releases complete characters.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);
}
