namespace Peft.Tokenizers;

/// <summary>Builds an <see cref="AlignedText"/> piece by piece, each appended string taking a given original span.</summary>
internal sealed class AlignedTextBuilder(int capacity)
{
    private readonly System.Text.StringBuilder _text = new(capacity);
    private readonly List<int> _starts = new(capacity), _ends = new(capacity);

    public void Append(string text, int start, int end) => Append(text.AsSpan(), start, end);

    public void Append(ReadOnlySpan<char> text, int start, int end)
    {
        _text.Append(text);
        for (int i = 0; i < text.Length; i++)
        {
            _starts.Add(start);
            _ends.Add(end);
        }
    }

    public void Append(char c, int start, int end)
    {
        _text.Append(c);
        _starts.Add(start);
        _ends.Add(end);
    }

    public AlignedText Build() => new(_text.ToString(), [.. _starts], [.. _ends]);
}
