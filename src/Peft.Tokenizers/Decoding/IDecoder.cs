namespace Peft.Tokenizers.Decoding;

/// <summary>One step of tokenizers' decode chain: token strings in, token strings out (joined at the end).</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}
