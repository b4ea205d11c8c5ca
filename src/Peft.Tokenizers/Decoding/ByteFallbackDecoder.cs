namespace Peft.Tokenizers.Decoding;

/// <summary>Turns runs of &lt;0xXX&gt; tokens back into the text their bytes spell (U+FFFD per byte when they are not valid UTF-8).</summary>
internal sealed class ByteFallbackDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>();
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            var bytes = pending.ToArray();
            try
            {
                result.Add(new System.Text.UTF8Encoding(false, true).GetString(bytes));
            }
            catch (System.Text.DecoderFallbackException)
            {
                foreach (var _ in bytes) result.Add("\uFFFD");
            }
            pending.Clear();
        }
        foreach (string token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush();
            result.Add(token);
        }
        Flush();
        return result;
    }
}
