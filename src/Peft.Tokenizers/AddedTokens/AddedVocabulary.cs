using Peft.Tokenizers.PreTokenization;

namespace Peft.Tokenizers.AddedTokens;

/// <summary>
/// Splits text into added-token matches and the plain stretches between them, leftmost-longest
/// as the Rust library's matcher does, honouring lstrip, rstrip and single_word.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<char, List<AddedToken>> _byFirstChar = [];
    private readonly Dictionary<int, AddedToken> _byId = [];
    private readonly Dictionary<string, AddedToken> _byContent = new(StringComparer.Ordinal);

    public AddedVocabulary(IEnumerable<AddedToken> tokens)
    {
        foreach (var t in tokens)
        {
            _byId[t.Id] = t;
            _byContent[t.Content] = t;
            if (t.Content.Length == 0) continue;
            if (!_byFirstChar.TryGetValue(t.Content[0], out var list)) _byFirstChar[t.Content[0]] = list = [];
            list.Add(t);
        }
        foreach (var list in _byFirstChar.Values) list.Sort((a, b) => b.Content.Length.CompareTo(a.Content.Length));
    }

    public IReadOnlyCollection<AddedToken> All => _byId.Values;

    public AddedToken? ById(int id) => _byId.GetValueOrDefault(id);

    public AddedToken? ByContent(string content) => _byContent.GetValueOrDefault(content);

    /// <summary>Segments of <paramref name="text"/> as (start, length, token): plain text where token is null.</summary>
    public List<(int Start, int Length, AddedToken? Token)> Split(string text)
    {
        var result = new List<(int, int, AddedToken?)>();
        if (_byFirstChar.Count == 0)
        {
            if (text.Length > 0) result.Add((0, text.Length, null));
            return result;
        }
        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            AddedToken? match = null;
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
                foreach (var t in candidates)
                    if (string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0 && WordBoundaryOk(text, i, t))
                    {
                        match = t;
                        break;
                    }
            if (match is null)
            {
                i++;
                continue;
            }
            int start = i, end = i + match.Content.Length;
            if (match.LeftStrip) while (start > plainStart && WhitespaceSplitPreTokenizer.IsWhiteSpace(text[start - 1])) start--;
            if (match.RightStrip) while (end < text.Length && WhitespaceSplitPreTokenizer.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) result.Add((plainStart, start - plainStart, null));
            result.Add((start, end - start, match));
            plainStart = i = end;
        }
        if (plainStart < text.Length) result.Add((plainStart, text.Length - plainStart, null));
        return result;
    }

    private static bool WordBoundaryOk(string text, int start, AddedToken token)
    {
        if (!token.SingleWord) return true;
        int end = start + token.Content.Length;
        bool before = start == 0 || !char.IsLetterOrDigit(text[start - 1]);
        bool after = end == text.Length || !char.IsLetterOrDigit(text[end]);
        return before && after;
    }
}
