using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// tokenizers' ByteLevel: optionally a leading space, optionally GPT-2's split regex, then every
/// piece's UTF-8 bytes written with <see cref="ByteLevelAlphabet"/>.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    /// <summary>GPT-2's pattern (Oniguruma and .NET agree on its classes).</summary>
    public static readonly Regex Gpt2Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public void Split(string text, bool first, List<string> output)
    {
        if (addPrefixSpace && first && text.Length > 0 && text[0] != ' ') text = " " + text;
        if (!useRegex)
        {
            output.Add(ByteLevelAlphabet.Encode(text));
            return;
        }
        int from = output.Count;
        PatternSplitter.Split(text, Gpt2Pattern, SplitBehavior.Isolated, false, output);
        for (int i = from; i < output.Count; i++) output[i] = ByteLevelAlphabet.Encode(output[i]);
    }
}
