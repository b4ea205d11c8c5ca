namespace Peft.Tokenizers.Normalization;

/// <summary>Lower-cases with invariant rules (one character for one).</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public AlignedText Normalize(AlignedText text) => new(text.Text.ToLowerInvariant(), text.Starts, text.Ends);
}
