namespace Peft.Tokenizers;

/// <summary>
/// Text with, for every character, the span [start, end) of the original text it came from, so
/// that normalization and pre-tokenization keep token offsets pointing into what the user gave.
/// </summary>
internal readonly struct AlignedText
{
    public AlignedText(string text, int[] starts, int[] ends)
    {
        Text = text;
        Starts = starts;
        Ends = ends;
    }

    public string Text { get; }

    public int[] Starts { get; }

    public int[] Ends { get; }

    public int Length => Text.Length;

    /// <summary>Original text at <paramref name="offset"/>: every character maps to itself.</summary>
    public static AlignedText Identity(string text, int offset)
    {
        var starts = new int[text.Length];
        var ends = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            starts[i] = offset + i;
            ends[i] = offset + i + 1;
        }
        return new AlignedText(text, starts, ends);
    }

    public AlignedText Slice(int start, int length) =>
        new(Text.Substring(start, length), Starts.AsSpan(start, length).ToArray(), Ends.AsSpan(start, length).ToArray());

    /// <summary>The original span of characters [from, to) of this text.</summary>
    public (int Start, int End) Span(int from, int to) => to <= from || Length == 0 ? (0, 0) : (Starts[from], Ends[to - 1]);
}
