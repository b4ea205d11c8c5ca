namespace Peft.Tokenizers.Decoding;

/// <summary>Runs decoders in order over the token strings.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> parts) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var p in parts) tokens = p.DecodeChain(tokens);
        return tokens;
    }
}
