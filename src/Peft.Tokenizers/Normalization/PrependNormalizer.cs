namespace Peft.Tokenizers.Normalization;

/// <summary>Puts a string in front of any non-empty text (SentencePiece's "▁"), aligned to the first character.</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        if (text.Length == 0) return text;
        var builder = new AlignedTextBuilder(text.Length + prefix.Length);
        builder.Append(prefix, text.Starts[0], text.Ends[0]);
        for (int i = 0; i < text.Length; i++) builder.Append(text.Text[i], text.Starts[i], text.Ends[i]);
        return builder.Build();
    }
}
