namespace Peft.Tokenizers;

/// <summary>
/// Turns ids that arrive one at a time into text, holding back what is not complete yet: a
/// character split over several byte tokens comes out once its last byte arrives, never as U+FFFD.
/// Each id costs a decode of a few ids, not of everything so far: the text of a short window that
/// starts at an already emitted token is compared with the text of the same window without the
/// newest ids, so decoders that treat a sequence's first token specially (SentencePiece's leading
/// space, WordPiece's "##") affect both alike.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Func<IReadOnlyList<int>, string> _decode;
    private readonly List<int> _ids = [];
    private readonly List<int> _window = [];

    // The window's start (an id whose text has been emitted) and where unemitted ids begin.
    private int _windowStart;
    private int _unemittedStart;

    /// <summary>Streams the text of any decode function (for example a tokenizer's with its options).</summary>
    /// <param name="decode">Text of a list of ids.</param>
    public StreamingDecoder(Func<IReadOnlyList<int>, string> decode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        _decode = decode;
    }

    internal StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
        : this(ids => tokenizer.Decode(ids, skipSpecialTokens))
    {
    }

    /// <summary>Adds an id; returns the text that became complete (possibly empty).</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        string before = DecodeWindow(_unemittedStart);
        string after = DecodeWindow(_ids.Count);
        // An incomplete UTF-8 sequence decodes to U+FFFD at the end: wait for the rest.
        if (after.Length <= before.Length || after.EndsWith('\uFFFD')) return "";
        _windowStart = _unemittedStart;
        _unemittedStart = _ids.Count;
        return after[before.Length..];
    }

    /// <summary>Whatever is left at the end (an incomplete character comes out as U+FFFD).</summary>
    public string Flush()
    {
        string before = DecodeWindow(_unemittedStart);
        string after = DecodeWindow(_ids.Count);
        _windowStart = _unemittedStart = _ids.Count;
        return after.Length > before.Length ? after[before.Length..] : "";
    }

    /// <summary>Text of ids [window start, <paramref name="end"/>).</summary>
    private string DecodeWindow(int end)
    {
        _window.Clear();
        for (int i = _windowStart; i < end; i++) _window.Add(_ids[i]);
        return _window.Count == 0 ? "" : _decode(_window);
    }
}
