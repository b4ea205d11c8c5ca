using System.Collections.Frozen;
using Microsoft.ML.Tokenizers;
using Peft.Tokenizers.Models;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Interop;

/// <summary>
/// Encoding, decoding and vocabulary look-ups of a <see cref="Tokenizer"/> that wraps an ML.NET
/// tokenizer, plus the special ids given separately or read from the tokenizer's own properties.
/// It stands in as the wrapper's model so vocabulary look-ups need no second code path.
/// </summary>
internal sealed class MLTokenizerBackend : ITokenizerModel
{
    private readonly IReadOnlyDictionary<string, int>? _vocabulary;
    private readonly FrozenSet<int> _special;
    private Dictionary<int, string>? _reverse;

    public MLTokenizerBackend(MLTokenizer inner, MLTokenizerOptions options)
    {
        Inner = inner;
        Options = options;
        IReadOnlyDictionary<string, int>? specialTokens = null;
        int? bos = null, eos = null, pad = null, unk = null;
        var special = new HashSet<int>();
        switch (inner)
        {
            case SentencePieceTokenizer sp:
                _vocabulary = sp.Vocabulary;
                specialTokens = sp.SpecialTokens;
                (bos, eos, unk) = (sp.BeginningOfSentenceId, sp.EndOfSentenceId, sp.UnknownId);
                break;
            case CodeGenTokenizer cg:
                _vocabulary = cg.Vocabulary;
                specialTokens = cg.SpecialTokens;
                (bos, eos, unk) = (cg.BeginningOfSentenceId, cg.EndOfSentenceId, cg.UnknownTokenId);
                break;
            case BpeTokenizer bpe:
                _vocabulary = bpe.Vocabulary;
                specialTokens = bpe.SpecialTokens;
                break;
            case BertTokenizer bert:
                specialTokens = bert.SpecialTokens;
                (pad, unk) = (bert.PaddingTokenId, bert.UnknownTokenId);
                special.UnionWith([bert.ClassificationTokenId, bert.SeparatorTokenId, bert.MaskingTokenId]);
                break;
            case WordPieceTokenizer wp:
                specialTokens = wp.SpecialTokens;
                unk = wp.UnknownTokenId;
                break;
            case TiktokenTokenizer tt:
                specialTokens = tt.SpecialTokens;
                if (specialTokens?.TryGetValue("<|endoftext|>", out int end) == true) eos = end;
                break;
        }
        BosTokenId = options.BosTokenId ?? bos;
        EosTokenId = options.EosTokenId ?? eos;
        PadTokenId = options.PadTokenId ?? pad;
        UnkTokenId = options.UnkTokenId ?? unk;
        if (specialTokens is not null) special.UnionWith(specialTokens.Values);
        foreach (int? id in (int?[])[BosTokenId, EosTokenId, PadTokenId, UnkTokenId])
            if (id is int i) special.Add(i);
        _special = special.ToFrozenSet();
        _specialTokens = specialTokens;
        int known = Math.Max(_vocabulary is { Count: > 0 } ? _vocabulary.Values.Max() + 1 : 0, special.Count == 0 ? 0 : special.Max() + 1);
        VocabularySize = options.VocabularySize ?? (known > 0 ? known
            : throw new ArgumentException($"{inner.GetType().Name} does not publish its vocabulary: give MLTokenizerOptions.VocabularySize.", nameof(inner)));
    }

    private readonly IReadOnlyDictionary<string, int>? _specialTokens;

    public MLTokenizer Inner { get; }

    public MLTokenizerOptions Options { get; }

    public int? BosTokenId { get; }

    public int? EosTokenId { get; }

    public int? PadTokenId { get; }

    public int? UnkTokenId { get; }

    public int VocabularySize { get; }

    public bool IsSpecial(int id) => _special.Contains(id);

    /// <summary>The wrapped tokenizer's tokens; its own special-token settings apply, and ours are added on top.</summary>
    public EncodedText Encode(string text, bool addSpecialTokens)
    {
        IReadOnlyList<EncodedToken> encoded = Inner switch
        {
            // These two add bos/eos themselves by default: follow addSpecialTokens instead.
            SentencePieceTokenizer sp => sp.EncodeToTokens(text, out _, addSpecialTokens && sp.AddBeginningOfSentence, addSpecialTokens && sp.AddEndOfSentence,
                considerPreTokenization: true, considerNormalization: true),
            CodeGenTokenizer cg => cg.EncodeToTokens(text, cg.AddPrefixSpace, addSpecialTokens && cg.AddBeginningOfSentence,
                addSpecialTokens && cg.AddEndOfSentence, out _, considerPreTokenization: true, considerNormalization: true),
            _ => Inner.EncodeToTokens(text, out _),
        };
        var ids = new List<int>(encoded.Count + 2);
        var tokens = new List<string>(encoded.Count + 2);
        var offsets = new List<(int Start, int End)>(encoded.Count + 2);
        foreach (var token in encoded)
        {
            ids.Add(token.Id);
            tokens.Add(token.Value);
            var (start, length) = token.Offset.GetOffsetAndLength(int.MaxValue);
            offsets.Add((start, start + length));
        }
        if (addSpecialTokens && Options.AddBosToken && BosTokenId is int bos && (ids.Count == 0 || ids[0] != bos))
        {
            ids.Insert(0, bos);
            tokens.Insert(0, IdToToken(bos) ?? "");
            offsets.Insert(0, (0, 0));
        }
        if (addSpecialTokens && Options.AddEosToken && EosTokenId is int eos && (ids.Count == 0 || ids[^1] != eos))
        {
            ids.Add(eos);
            tokens.Add(IdToToken(eos) ?? "");
            offsets.Add((0, 0));
        }
        return new EncodedText(ids, tokens, offsets);
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        var kept = new List<int>(ids.Count);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {VocabularySize}.");
            if (!(skipSpecialTokens && _special.Contains(id))) kept.Add(id);
        }
        if (kept.Count == 0) return "";
        return Inner switch
        {
            // Their default leaves special tokens out; ours keeps them unless asked.
            SentencePieceTokenizer sp => sp.Decode(kept, considerSpecialTokens: true),
            CodeGenTokenizer cg => cg.Decode(kept, cg.AddPrefixSpace, considerSpecialTokens: true),
            _ => Inner.Decode(kept),
        };
    }

    public void Tokenize(string piece, List<int> ids, List<string> tokens, List<(int Start, int End)> spans) =>
        throw new InvalidOperationException("A wrapped ML.NET tokenizer encodes whole texts.");

    public string? IdToToken(int id)
    {
        if ((uint)id >= (uint)VocabularySize) return null;
        var reverse = _reverse;
        if (reverse is null)
        {
            reverse = new Dictionary<int, string>();
            foreach (var source in (IReadOnlyDictionary<string, int>?[])[_vocabulary, _specialTokens])
                if (source is not null)
                    foreach (var (token, i) in source) reverse.TryAdd(i, token);
            _reverse = reverse;
        }
        // Tiktoken publishes no vocabulary: its token's text is the closest there is.
        return reverse.TryGetValue(id, out var value) ? value : Inner.Decode([id]);
    }

    public int? TokenToId(string token)
    {
        if (_specialTokens?.TryGetValue(token, out int special) == true) return special;
        if (_vocabulary is not null) return _vocabulary.TryGetValue(token, out int id) ? id : null;
        var ids = Inner.EncodeToIds(token);
        return ids.Count == 1 ? ids[0] : null;
    }
}
