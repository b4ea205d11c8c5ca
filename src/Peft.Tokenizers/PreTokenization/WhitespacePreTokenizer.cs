using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Whitespace: runs of word characters and runs of other non-space characters (<c>\w+|[^\w\s]+</c>).</summary>
internal sealed class WhitespacePreTokenizer : IPreTokenizer
{
    private static readonly Regex Pattern = new(@"\w+|[^\w\s]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public void Split(AlignedText text, bool first, List<AlignedText> output)
    {
        for (var m = Pattern.Match(text.Text); m.Success; m = m.NextMatch()) output.Add(text.Slice(m.Index, m.Length));
    }
}
