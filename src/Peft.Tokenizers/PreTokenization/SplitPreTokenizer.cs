using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>tokenizers' Split: a regex or literal pattern with a split behaviour, optionally inverted.</summary>
internal sealed class SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    private readonly PerThreadRegex _pattern = new(pattern);

    /// <summary>The pattern, each thread with its own copy.</summary>
    public PerThreadRegex Pattern => _pattern;

    /// <summary>True when this splits like the byte-level ids path does: matches and the gaps between them, each a piece.</summary>
    public bool IsolatesMatches => behavior == SplitBehavior.Isolated && !invert;

    public void Split(AlignedText text, bool first, List<AlignedText> output) => PatternSplitter.Split(text, _pattern.Current, behavior, invert, output);
}
