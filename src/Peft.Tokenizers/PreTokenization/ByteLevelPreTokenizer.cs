using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// tokenizers' ByteLevel: optionally a leading space, optionally GPT-2's split regex, then every
/// piece's UTF-8 bytes written with <see cref="ByteLevelAlphabet"/>.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    /// <summary>GPT-2's pattern (Oniguruma and .NET agree on its classes).</summary>
    public static readonly Regex Gpt2Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
        RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>GPT-2's pattern, each thread with its own copy.</summary>
    public static readonly PerThreadRegex Gpt2PerThread = new(Gpt2Pattern);

    /// <summary>True when the ids-only path (<see cref="ByteLevelIds"/>) reproduces <see cref="Split"/>: GPT-2's regex, no prefix space.</summary>
    public bool SplitsLikeGpt2 => useRegex && !addPrefixSpace;

    /// <summary>True when this only maps bytes (no regex, no prefix space): the second half of a Split-then-ByteLevel sequence.</summary>
    public bool OnlyMapsBytes => !useRegex && !addPrefixSpace;

    public void Split(AlignedText text, bool first, List<AlignedText> output)
    {
        if (addPrefixSpace && first && text.Length > 0 && text.Text[0] != ' ')
        {
            var builder = new AlignedTextBuilder(text.Length + 1);
            builder.Append(' ', text.Starts[0], text.Starts[0]);
            for (int i = 0; i < text.Length; i++) builder.Append(text.Text[i], text.Starts[i], text.Ends[i]);
            text = builder.Build();
        }
        if (!useRegex)
        {
            output.Add(ByteLevelAlphabet.Encode(text));
            return;
        }
        int from = output.Count;
        PatternSplitter.Split(text, Gpt2Pattern, SplitBehavior.Isolated, false, output);
        for (int i = from; i < output.Count; i++) output[i] = ByteLevelAlphabet.Encode(output[i]);
    }

    public IPreTokenizer? WithoutSplitting() => new ByteLevelPreTokenizer(addPrefixSpace, useRegex: false);
}
