namespace Peft.Tokenizers.Normalization;

/// <summary>Applies normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> parts) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        foreach (var p in parts) text = p.Normalize(text);
        return text;
    }
}
