namespace Peft.Tokenizers;

/// <summary>
/// Text with, for every character, the span [start, end) of the original text it came from, so
/// that normalization and pre-tokenization keep token offsets pointing into what the user gave.
/// Slices share the span arrays (only the text is copied).
/// </summary>
internal readonly struct AlignedText
{
    private readonly int[] _starts;
    private readonly int[] _ends;
    private readonly int _offset;

    public AlignedText(string text, int[] starts, int[] ends, int offset = 0)
    {
        Text = text;
        _starts = starts;
        _ends = ends;
        _offset = offset;
    }

    public string Text { get; }

    public ReadOnlySpan<int> Starts => _starts.AsSpan(_offset, Text.Length);

    public ReadOnlySpan<int> Ends => _ends.AsSpan(_offset, Text.Length);

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

    public AlignedText Slice(int start, int length) => new(Text.Substring(start, length), _starts, _ends, _offset + start);

    /// <summary>The same spans under a text of the same length (case mapping).</summary>
    public AlignedText WithText(string sameLength) => new(sameLength, _starts, _ends, _offset);

    /// <summary>The original span of characters [from, to) of this text.</summary>
    public (int Start, int End) Span(int from, int to) => to <= from || Length == 0 ? (0, 0) : (_starts[_offset + from], _ends[_offset + to - 1]);
}
