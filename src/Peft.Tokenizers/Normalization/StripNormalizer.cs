namespace Peft.Tokenizers.Normalization;

/// <summary>Removes whitespace at the start and/or end.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        int start = 0, end = text.Length;
        if (left) while (start < end && char.IsWhiteSpace(text.Text[start])) start++;
        if (right) while (end > start && char.IsWhiteSpace(text.Text[end - 1])) end--;
        return start == 0 && end == text.Length ? text : text.Slice(start, end - start);
    }
}
