namespace Peft.Tokenizers.Normalization;

/// <summary>Lower-cases with invariant rules.</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public string Normalize(string text) => text.ToLowerInvariant();
}
