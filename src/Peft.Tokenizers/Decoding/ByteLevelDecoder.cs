using Peft.Tokenizers.PreTokenization;

namespace Peft.Tokenizers.Decoding;

/// <summary>Maps byte characters back to bytes and reads them as UTF-8 (invalid sequences become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens)
            foreach (char c in token)
            {
                if (ByteLevelAlphabet.CharToByte.TryGetValue(c, out byte b)) bytes.Add(b);
                else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(c.ToString()));
            }
        return [System.Text.Encoding.UTF8.GetString(bytes.ToArray())];
    }
}
