using System.Text.RegularExpressions;

namespace Peft.Tokenizers.Normalization;

/// <summary>Replaces every occurrence of a string or regex pattern.</summary>
internal sealed class ReplaceNormalizer(string? literal, Regex? pattern, string content) : INormalizer
{
    public string Normalize(string text) =>
        pattern is not null ? pattern.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal)) : text.Replace(literal!, content, StringComparison.Ordinal);
}
