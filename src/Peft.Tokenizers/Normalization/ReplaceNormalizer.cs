using System.Text.RegularExpressions;

namespace Peft.Tokenizers.Normalization;

/// <summary>Replaces every occurrence of a string or regex pattern; the replacement takes the span of what it replaced.</summary>
internal sealed class ReplaceNormalizer(string? literal, Regex? pattern, string content) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        string s = text.Text;
        // A same-length literal keeps every character's span: one new string, the span arrays shared.
        if (pattern is null && literal!.Length > 0 && literal.Length == content.Length)
        {
            string replaced = s.Replace(literal, content, StringComparison.Ordinal);
            return ReferenceEquals(replaced, s) ? text : text.WithText(replaced);
        }
        var matches = new List<(int Index, int Length)>();
        if (pattern is not null)
            for (var m = pattern.Match(s); m.Success; m = m.NextMatch()) matches.Add((m.Index, m.Length));
        else if (literal!.Length > 0)
            for (int at = s.IndexOf(literal, StringComparison.Ordinal); at >= 0; at = s.IndexOf(literal, at + literal.Length, StringComparison.Ordinal))
                matches.Add((at, literal.Length));
        if (matches.Count == 0) return text;
        var builder = new AlignedTextBuilder(s.Length);
        int i = 0;
        foreach (var (index, length) in matches)
        {
            for (; i < index; i++) builder.Append(s[i], text.Starts[i], text.Ends[i]);
            if (length > 0)
            {
                // A same-length replacement keeps one-to-one spans; otherwise every new character takes the whole match.
                if (content.Length == length)
                    for (int k = 0; k < length; k++) builder.Append(content[k], text.Starts[index + k], text.Ends[index + k]);
                else builder.Append(content, text.Starts[index], text.Ends[index + length - 1]);
            }
            i = index + length;
        }
        for (; i < s.Length; i++) builder.Append(s[i], text.Starts[i], text.Ends[i]);
        return builder.Build();
    }
}
