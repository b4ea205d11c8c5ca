using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Digits: digits isolated, one by one or in runs.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : IPreTokenizer
{
    private static readonly Regex Single = new(@"\p{Nd}", RegexOptions.Compiled);
    private static readonly Regex Runs = new(@"\p{Nd}+", RegexOptions.Compiled);

    public void Split(AlignedText text, bool first, List<AlignedText> output) =>
        PatternSplitter.Split(text, individualDigits ? Single : Runs, SplitBehavior.Isolated, false, output);
}
