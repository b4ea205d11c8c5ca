namespace Peft.Tokenizers.Models;

/// <summary>
/// SentencePiece's Unigram model: the segmentation of a piece that maximizes the sum of the
/// pieces' log-probabilities (Viterbi); characters with no piece become unk (score: the lowest
/// score − 10), consecutive unks fused, or bytes with byte fallback.
/// </summary>
internal sealed class UnigramModel : ITokenizerModel
{
    private const double UnknownPenalty = 10.0;
    private readonly Dictionary<string, (int Id, double Score)> _pieces;
    private readonly string[] _idToToken;
    private readonly int _unkId;
    private readonly bool _byteFallback;
    private readonly int _maxPieceLength;
    private readonly double _unkScore;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int unkId, bool byteFallback, string source)
    {
        if ((uint)unkId >= (uint)vocab.Count) throw new TokenizerFormatException($"{source}: model.unk_id {unkId} is outside the vocabulary of {vocab.Count}.");
        _pieces = new Dictionary<string, (int, double)>(vocab.Count, StringComparer.Ordinal);
        _idToToken = new string[vocab.Count];
        double min = double.MaxValue;
        for (int i = 0; i < vocab.Count; i++)
        {
            var (piece, score) = vocab[i];
            _idToToken[i] = piece;
            _pieces.TryAdd(piece, (i, score));
            _maxPieceLength = Math.Max(_maxPieceLength, piece.Length);
            min = Math.Min(min, score);
        }
        _unkId = unkId;
        _byteFallback = byteFallback;
        _unkScore = min - UnknownPenalty;
    }

    public int VocabularySize => _idToToken.Length;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public int? TokenToId(string token) => _pieces.TryGetValue(token, out var p) ? p.Id : null;

    public void Tokenize(string piece, List<int> ids, List<string> tokens, List<(int Start, int End)> spans)
    {
        int n = piece.Length;
        if (n == 0) return;
        var best = new double[n + 1];
        var from = new int[n + 1];
        var pieceId = new int[n + 1];
        Array.Fill(best, double.NegativeInfinity);
        best[0] = 0;
        for (int end = 1; end <= n; end++)
        {
            // Longest first, so that among equal scores the piece starting earliest wins, as in the
            // Rust library's forward lattice.
            for (int length = Math.Min(_maxPieceLength, end); length >= 1; length--)
            {
                int start = end - length;
                if (double.IsNegativeInfinity(best[start])) continue;
                if (char.IsLowSurrogate(piece[start]) && start > 0 && char.IsHighSurrogate(piece[start - 1])) continue;
                if (!_pieces.TryGetValue(piece.Substring(start, length), out var p)) continue;
                double score = best[start] + p.Score;
                if (score > best[end])
                {
                    best[end] = score;
                    from[end] = start;
                    pieceId[end] = p.Id;
                }
            }
            // One character (a surrogate pair counts as one) with no piece: unk.
            int charStart = char.IsLowSurrogate(piece[end - 1]) && end >= 2 && char.IsHighSurrogate(piece[end - 2]) ? end - 2 : end - 1;
            if (char.IsHighSurrogate(piece[end - 1]) && end < n && char.IsLowSurrogate(piece[end])) continue;
            if (!double.IsNegativeInfinity(best[charStart]) && best[charStart] + _unkScore > best[end])
            {
                best[end] = best[charStart] + _unkScore;
                from[end] = charStart;
                pieceId[end] = -1;
            }
        }
        var path = new List<(int Start, int End, int Id)>();
        for (int end = n; end > 0; end = from[end]) path.Add((from[end], end, pieceId[end]));
        path.Reverse();
        bool lastUnk = false;
        foreach (var (start, end, id) in path)
        {
            if (lastUnk && id >= 0) CloseUnknownStretch(piece, tokens, spans);
            if (id >= 0)
            {
                ids.Add(id);
                tokens.Add(_idToToken[id]);
                spans.Add((start, end));
                lastUnk = false;
                continue;
            }
            if (_byteFallback)
            {
                foreach (byte b in System.Text.Encoding.UTF8.GetBytes(piece[start..end]))
                {
                    string byteToken = $"<0x{b:X2}>";
                    int bid = _pieces.TryGetValue(byteToken, out var bp) ? bp.Id : _unkId;
                    ids.Add(bid);
                    tokens.Add(_idToToken[bid]);
                    spans.Add((start, end));
                }
                lastUnk = false;
                continue;
            }
            // As in the Rust library, an unknown stretch keeps its own text as the token string
            // (consecutive unknowns fused into one), with the unk id. Its text is cut once the stretch
            // ends: appending character by character made a long unknown stretch quadratic (afl: 32 KB took 3 s).
            if (lastUnk)
            {
                spans[^1] = (spans[^1].Start, end);
                continue;
            }
            ids.Add(_unkId);
            tokens.Add("");
            spans.Add((start, end));
            lastUnk = true;
        }
        if (lastUnk) CloseUnknownStretch(piece, tokens, spans);
    }

    /// <summary>Gives the last (unk) token the text of its whole span.</summary>
    private static void CloseUnknownStretch(string piece, List<string> tokens, List<(int Start, int End)> spans) =>
        tokens[^1] = piece[spans[^1].Start..spans[^1].End];
}
