namespace Peft.Tokenizers.PreTokenization;

/// <summary>Splits on Unicode whitespace, dropping it (Rust's <c>char::is_whitespace</c>).</summary>
internal sealed class WhitespaceSplitPreTokenizer : IPreTokenizer
{
    /// <summary>Unicode White_Space: what Rust's char::is_whitespace tests.</summary>
    public static bool IsWhiteSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r' or '\u0085' or '\u00A0' or '\u1680'
        or (>= '\u2000' and <= '\u200A') or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000';

    public void Split(AlignedText text, bool first, List<AlignedText> output)
    {
        int start = -1;
        for (int i = 0; i < text.Length; i++)
        {
            if (IsWhiteSpace(text.Text[i]))
            {
                if (start >= 0) output.Add(text.Slice(start, i - start));
                start = -1;
            }
            else if (start < 0) start = i;
        }
        if (start >= 0) output.Add(text.Slice(start, text.Length - start));
    }
}
