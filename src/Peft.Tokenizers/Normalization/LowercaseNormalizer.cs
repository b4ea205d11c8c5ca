namespace Peft.Tokenizers.Normalization;

/// <summary>Lower-cases with invariant rules (one character for one).</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public AlignedText Normalize(AlignedText text) => text.WithText(text.Text.ToLowerInvariant());
}
