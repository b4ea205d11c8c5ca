namespace Peft.Tokenizers.Decoding;

/// <summary>Replaces a string in every token (SentencePiece's ▁ back to a space).</summary>
internal sealed class ReplaceDecoder(string pattern, string content) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => tokens.Select(t => t.Replace(pattern, content, StringComparison.Ordinal)).ToList();
}
