namespace Peft.Tokenizers.Decoding;

/// <summary>Joins every token into one.</summary>
internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}
