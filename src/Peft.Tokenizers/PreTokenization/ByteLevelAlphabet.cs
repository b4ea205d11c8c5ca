namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map: printable Latin-1 bytes stand for themselves, the
/// other 68 bytes for the characters from U+0100 on, so any byte string is a printable string.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = Build();
    public static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, (byte)b)).ToDictionary(p => p.c, p => p.Item2);

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/> written with the byte characters; each byte keeps its character's span.</summary>
    public static AlignedText Encode(AlignedText text)
    {
        string s = text.Text;
        int count = System.Text.Encoding.UTF8.GetByteCount(s);
        var chars = new char[count];
        var starts = new int[count];
        var ends = new int[count];
        Span<byte> bytes = stackalloc byte[4];
        int at = 0;
        for (int i = 0; i < s.Length;)
        {
            int length = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            int n = s[i] < 0x80 ? 1 : System.Text.Encoding.UTF8.GetBytes(s.AsSpan(i, length), bytes);
            if (n == 1 && s[i] < 0x80) bytes[0] = (byte)s[i];
            int start = text.Starts[i], end = text.Ends[i + length - 1];
            for (int b = 0; b < n; b++, at++)
            {
                chars[at] = ByteToChar[bytes[b]];
                starts[at] = start;
                ends[at] = end;
            }
            i += length;
        }
        return new AlignedText(new string(chars), starts, ends);
    }
}
