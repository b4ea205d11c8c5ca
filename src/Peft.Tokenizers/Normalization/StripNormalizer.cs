namespace Peft.Tokenizers.Normalization;

/// <summary>Removes whitespace at the start and/or end.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public string Normalize(string text) => left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text;
}
