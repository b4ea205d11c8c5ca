namespace Peft.Tokenizers;

/// <summary>
/// Turns ids that arrive one at a time into text, holding back what is not complete yet: a
/// character split over several byte tokens comes out once its last byte arrives, never as U+FFFD.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private int _emitted;

    internal StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds an id; returns the text that became complete (possibly empty).</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        string text = _tokenizer.Decode(_ids, _skipSpecialTokens);
        // An incomplete UTF-8 sequence decodes to U+FFFD at the end: wait for the rest.
        if (text.EndsWith('\uFFFD') || text.Length < _emitted) return "";
        string fresh = text[_emitted..];
        _emitted = text.Length;
        return fresh;
    }

    /// <summary>Whatever is left at the end (an incomplete character comes out as U+FFFD).</summary>
    public string Flush()
    {
        string text = _tokenizer.Decode(_ids, _skipSpecialTokens);
        string rest = text.Length > _emitted ? text[_emitted..] : "";
        _emitted = text.Length;
        return rest;
    }
}
