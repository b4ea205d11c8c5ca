using System.Text;

namespace Peft.Tokenizers.Models;

/// <summary>
/// Byte-pair encoding by merge rank: a piece starts as characters (or, with byte fallback, the
/// &lt;0xXX&gt; tokens of characters the vocabulary lacks) and the adjacent pair with the lowest
/// rank merges until none is left; a min-heap over pair ranks keeps long pieces linear-logarithmic.
/// Results are cached per piece.
/// </summary>
internal sealed class BpeModel : ITokenizerModel
{
    private readonly Dictionary<string, int> _vocab;
    // The <0xXX> token of each byte (byte fallback), or -1.
    private readonly int[] _byteIds = new int[256];
#if NET9_0_OR_GREATER
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>>? _vocabBySpan;
#endif
    private readonly string[] _idToToken;
    private readonly Dictionary<(int, int), (int Rank, int Id)> _merges;
    private readonly string? _unk;
    private readonly bool _fuseUnk, _byteFallback, _ignoreMerges;
    private readonly string _prefix, _suffix;
    private readonly string _source;
    // Tokenizers are shared across threads (serving), so the piece cache is concurrent.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int[] Ids, string[] Tokens, (int, int)[] Spans)> _cache =
        new(StringComparer.Ordinal);
    private const int CacheLimit = 100_000;
#if NET9_0_OR_GREATER
    // Looks pieces up by span, so the ids-only path needs no string for a cached piece.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int[] Ids, string[] Tokens, (int, int)[] Spans)>
        .AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
#endif

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? unk, bool fuseUnk, bool byteFallback,
        bool ignoreMerges, string? continuingSubwordPrefix, string? endOfWordSuffix, string source)
    {
        _vocab = vocab;
        for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int byteId) ? byteId : -1;
#if NET9_0_OR_GREATER
        _vocabBySpan = vocab.TryGetAlternateLookup<ReadOnlySpan<char>>(out var bySpan) ? bySpan : null;
#endif
        int size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        _idToToken = new string[size];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        _unk = unk;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _prefix = continuingSubwordPrefix ?? "";
        _suffix = endOfWordSuffix ?? "";
        _source = source;
#if NET9_0_OR_GREATER
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
        _merges = new Dictionary<(int, int), (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out int a) || !vocab.TryGetValue(right, out int b))
                throw new TokenizerFormatException($"{source}: model.merges[{rank}] \"{left} {right}\" uses a token that is not in the vocabulary.");
            string merged = left + (right.StartsWith(_prefix, StringComparison.Ordinal) ? right[_prefix.Length..] : right);
            if (!vocab.TryGetValue(merged, out int id))
                throw new TokenizerFormatException($"{source}: model.merges[{rank}] \"{left} {right}\" makes \"{merged}\", which is not in the vocabulary.");
            _merges.TryAdd((a, b), (rank, id));
        }
    }

    public int VocabularySize => _idToToken.Length;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    public void Tokenize(string piece, List<int> ids, List<string> tokens, List<(int Start, int End)> spans)
    {
        if (piece.Length == 0) return;
        if (!_cache.TryGetValue(piece, out var result))
        {
            result = Merge(piece);
            if (_cache.Count >= CacheLimit) _cache.Clear();
            if (piece.Length <= 256) _cache[piece] = result;
        }
        ids.AddRange(result.Ids);
        tokens.AddRange(result.Tokens);
        spans.AddRange(result.Spans);
    }

    /// <summary>
    /// The tokens of <paramref name="piece"/> (ids, strings, spans within the piece), shared with
    /// the cache: callers copy, never change them. A cached piece costs no allocation.
    /// </summary>
    public (int[] Ids, string[] Tokens, (int Start, int End)[] Spans) Lookup(ReadOnlySpan<char> piece)
    {
#if NET9_0_OR_GREATER
        if (_cacheBySpan.TryGetValue(piece, out var cached)) return cached;
#endif
        string text = piece.ToString();
        if (!_cache.TryGetValue(text, out var result))
        {
            result = Merge(text);
            if (_cache.Count >= CacheLimit) _cache.Clear();
            if (text.Length <= 256) _cache[text] = result;
        }
        return result;
    }

    /// <summary>Per-thread working storage of <see cref="Merge"/>, reused so a long piece costs only its result arrays.</summary>
    private sealed class MergeScratch
    {
        public readonly List<(int Id, (int Start, int End) Span)> Symbols = [];
        public readonly PriorityQueue<(int Left, int LeftId, int RightId), (int Rank, int Left)> Heap = new();
        public int[] Id = [], Prev = [], Next = [];
        public (int Start, int End)[] Span = [];
        public bool[] Alive = [];

        public void Reserve(int n)
        {
            if (Id.Length >= n) return;
            int size = Math.Max(n, 2 * Id.Length);
            (Id, Prev, Next, Span, Alive) = (new int[size], new int[size], new int[size], new (int, int)[size], new bool[size]);
        }
    }

    [ThreadStatic]
    private static MergeScratch? t_scratch;

    private (int[] Ids, string[] Tokens, (int, int)[] Spans) Merge(string piece)
    {
        if (_ignoreMerges && _vocab.TryGetValue(piece + _suffix, out int whole)) return ([whole], [piece + _suffix], [(0, piece.Length)]);
        var scratch = t_scratch ??= new MergeScratch();
        var symbols = scratch.Symbols;
        symbols.Clear();
        InitialSymbols(piece, symbols);
        int n = symbols.Count;
        scratch.Reserve(n);
        var (id, span, prev, next, alive) = (scratch.Id, scratch.Span, scratch.Prev, scratch.Next, scratch.Alive);
        for (int i = 0; i < n; i++)
        {
            (id[i], span[i]) = symbols[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }
        // Heap of candidate merges (rank, left position); stale entries are skipped when popped.
        var heap = scratch.Heap;
        heap.Clear();
        for (int i = 0; i + 1 < n; i++) Push(heap, i, id[i], id[i + 1]);
        int count = n;
        while (heap.TryDequeue(out var candidate, out _))
        {
            int left = candidate.Left;
            if (!alive[left] || id[left] != candidate.LeftId) continue;
            int right = next[left];
            if (right < 0 || id[right] != candidate.RightId) continue;
            id[left] = _merges[(candidate.LeftId, candidate.RightId)].Id;
            span[left] = (span[left].Start, span[right].End);
            alive[right] = false;
            count--;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) Push(heap, prev[left], id[prev[left]], id[left]);
            if (next[left] >= 0) Push(heap, left, id[left], id[next[left]]);
        }
        var ids = new int[count];
        var tokens = new string[count];
        var spans = new (int, int)[count];
        int k = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i])
            if (alive[i])
            {
                ids[k] = id[i];
                tokens[k] = _idToToken[id[i]];
                spans[k++] = span[i];
            }
        return (ids, tokens, spans);
    }

    private void Push(PriorityQueue<(int, int, int), (int, int)> heap, int left, int a, int b)
    {
        if (_merges.TryGetValue((a, b), out var merge)) heap.Enqueue((left, a, b), (merge.Rank, left));
    }

    /// <summary>The piece's characters as ids with their spans (with prefix/suffix rules, byte fallback and unk).</summary>
    private void InitialSymbols(string piece, List<(int Id, (int Start, int End) Span)> result)
    {
        bool lastWasUnk = false;
        bool affixes = _prefix.Length > 0 || _suffix.Length > 0;
        Span<byte> utf8 = stackalloc byte[4];
        int i = 0;
        while (i < piece.Length)
        {
            int length = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
            var ch = piece.AsSpan(i, length);
            bool isFirst = i == 0, isLast = i + length == piece.Length;
            var charSpan = (i, i + length);
            i += length;
            // Without a prefix or suffix the character itself is the symbol: no string for it.
            if (affixes ? _vocab.TryGetValue((isFirst ? "" : _prefix) + ch.ToString() + (isLast ? _suffix : ""), out int sid) : TryGetId(ch, out sid))
            {
                result.Add((sid, charSpan));
                lastWasUnk = false;
                continue;
            }
            if (_byteFallback)
            {
                // A lone surrogate falls back to U+FFFD's bytes, as Encoding.UTF8 writes it.
                Rune.DecodeFromUtf16(ch, out var rune, out _);
                int count = rune.EncodeToUtf8(utf8);
                bool all = true;
                for (int b = 0; b < count; b++) all &= _byteIds[utf8[b]] >= 0;
                if (all)
                {
                    for (int b = 0; b < count; b++) result.Add((_byteIds[utf8[b]], charSpan));
                    lastWasUnk = false;
                    continue;
                }
            }
            // Without an unk token, Hugging Face's BPE drops a character it cannot represent.
            if (_unk is null) continue;
            if (!_vocab.TryGetValue(_unk, out int unkId))
                throw new TokenizerFormatException($"{_source}: model.unk_token '{_unk}' is not in the vocabulary, so '{ch}' cannot be encoded.");
            if (_fuseUnk && lastWasUnk) result[^1] = (unkId, (result[^1].Item2.Item1, charSpan.Item2));
            else result.Add((unkId, charSpan));
            lastWasUnk = true;
        }
    }

    private bool TryGetId(ReadOnlySpan<char> symbol, out int id)
    {
#if NET9_0_OR_GREATER
        if (_vocabBySpan is { } lookup) return lookup.TryGetValue(symbol, out id);
#endif
        return _vocab.TryGetValue(symbol.ToString(), out id);
    }
}
