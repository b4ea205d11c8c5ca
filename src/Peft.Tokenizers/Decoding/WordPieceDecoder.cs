namespace Peft.Tokenizers.Decoding;

/// <summary>Continuation pieces (##) join the piece before; other tokens get a space in front (the first excepted).</summary>
internal sealed class WordPieceDecoder(string prefix) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (t.StartsWith(prefix, StringComparison.Ordinal)) result.Add(t[prefix.Length..]);
            else result.Add(i == 0 ? t : " " + t);
        }
        return result;
    }
}
