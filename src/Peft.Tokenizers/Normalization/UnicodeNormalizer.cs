using System.Globalization;

namespace Peft.Tokenizers.Normalization;

/// <summary>NFC, NFD, NFKC or NFKD, applied per cluster (a character and the marks after it) so offsets stay exact per cluster.</summary>
internal sealed class UnicodeNormalizer : INormalizer
{
    private readonly System.Text.NormalizationForm _form;

    public UnicodeNormalizer(System.Text.NormalizationForm form)
    {
        // .NET's invariant globalization mode leaves non-ASCII text unnormalized: fail loudly, not silently.
        if ("e\u0301".Normalize(System.Text.NormalizationForm.FormC) != "\u00E9")
            throw new PlatformNotSupportedException(
                $"This tokenizer normalizes text ({form}), which needs ICU; the process runs with InvariantGlobalization, which lacks it. " +
                "Turn InvariantGlobalization off.");
        _form = form;
    }

    public AlignedText Normalize(AlignedText text)
    {
        string s = text.Text;
        if (s.IsNormalized(_form)) return text;
        var builder = new AlignedTextBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            int end = i + (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1);
            while (end < s.Length && IsMark(s, end)) end += char.IsHighSurrogate(s[end]) && end + 1 < s.Length ? 2 : 1;
            builder.Append(s[i..end].Normalize(_form), text.Starts[i], text.Ends[end - 1]);
            i = end;
        }
        return builder.Build();
    }

    private static bool IsMark(string s, int index) => CharUnicodeInfo.GetUnicodeCategory(s, index)
        is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}
