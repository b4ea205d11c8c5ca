namespace Peft.Tokenizers.Normalization;

/// <summary>Puts a string in front of any non-empty text (SentencePiece's "▁"), aligned to the first character.</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        if (text.Length == 0) return text;
        // Built directly (no builder): this runs once per text on SentencePiece files.
        int n = prefix.Length + text.Length;
        var starts = new int[n];
        var ends = new int[n];
        starts.AsSpan(0, prefix.Length).Fill(text.Starts[0]);
        ends.AsSpan(0, prefix.Length).Fill(text.Ends[0]);
        text.Starts.CopyTo(starts.AsSpan(prefix.Length));
        text.Ends.CopyTo(ends.AsSpan(prefix.Length));
        return new AlignedText(string.Concat(prefix, text.Text), starts, ends);
    }
}
