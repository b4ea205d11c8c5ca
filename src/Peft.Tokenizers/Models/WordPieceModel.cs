namespace Peft.Tokenizers.Models;

/// <summary>BERT's WordPiece: greedy longest-match-first, continuation pieces prefixed (##); a word that cannot be covered, or is too long, is unk.</summary>
internal sealed class WordPieceModel(Dictionary<string, int> vocab, string unk, string prefix, int maxInputCharsPerWord) : ITokenizerModel
{
    private readonly string[] _idToToken = Invert(vocab);

    private static string[] Invert(Dictionary<string, int> vocab)
    {
        var result = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) result[id] = token;
        return result;
    }

    public int VocabularySize => _idToToken.Length;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public int? TokenToId(string token) => vocab.TryGetValue(token, out int id) ? id : null;

    public void Tokenize(string piece, List<int> ids, List<string> tokens, List<(int Start, int End)> spans)
    {
        if (piece.Length == 0) return;
        var found = new List<(int, string, int, int)>();
        bool bad = piece.Length > maxInputCharsPerWord;
        for (int start = 0; !bad && start < piece.Length;)
        {
            int end = piece.Length;
            (int Id, string Token)? match = null;
            while (start < end)
            {
                string candidate = (start > 0 ? prefix : "") + piece[start..end];
                if (vocab.TryGetValue(candidate, out int id))
                {
                    match = (id, candidate);
                    break;
                }
                end--;
            }
            if (match is null) bad = true;
            else
            {
                found.Add((match.Value.Id, match.Value.Token, start, end));
                start = end;
            }
        }
        if (bad)
        {
            if (!vocab.TryGetValue(unk, out int unkId))
                throw new TokenizerFormatException($"WordPiece: '{piece}' cannot be tokenized and the unk token '{unk}' is not in the vocabulary.");
            ids.Add(unkId);
            tokens.Add(unk);
            spans.Add((0, piece.Length));
            return;
        }
        foreach (var (id, token, start, end) in found)
        {
            ids.Add(id);
            tokens.Add(token);
            spans.Add((start, end));
        }
    }
}
