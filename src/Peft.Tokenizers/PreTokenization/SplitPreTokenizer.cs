using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Split: a regex or literal pattern with a split behaviour, optionally inverted.</summary>
internal sealed class SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public void Split(AlignedText text, bool first, List<AlignedText> output) => PatternSplitter.Split(text, pattern, behavior, invert, output);
}
