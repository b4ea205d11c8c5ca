using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Punctuation: each punctuation character split off with a behaviour (default Isolated).</summary>
internal sealed class PunctuationPreTokenizer(SplitBehavior behavior) : IPreTokenizer
{
    private static readonly Regex Pattern = new(@"[\p{P}\$\+<=>\^`\|~]", RegexOptions.Compiled);

    public void Split(AlignedText text, bool first, List<AlignedText> output) => PatternSplitter.Split(text, Pattern, behavior, false, output);
}
