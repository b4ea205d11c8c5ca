using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Whitespace: runs of word characters and runs of other non-space characters (<c>\w+|[^\w\s]+</c>).</summary>
internal sealed class WhitespacePreTokenizer : IPreTokenizer
{
    private static readonly Regex Pattern = new(@"\w+|[^\w\s]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public void Split(string text, bool first, List<string> output)
    {
        for (var m = Pattern.Match(text); m.Success; m = m.NextMatch()) output.Add(m.Value);
    }
}
