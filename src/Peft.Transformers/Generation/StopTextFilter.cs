using System.Text;

namespace Peft.Transformers.Generation;

/// <summary>
/// Cuts streamed text at the first stop string, which is not part of the output (as chat APIs and
/// command lines show it; <see cref="GenerationOptions.StopStrings"/> decides where generation ends):
/// text that could still be the start of a stop string is held back until the next chunk decides it.
/// </summary>
/// <param name="stopSequences">The stop strings (empty ones are ignored).</param>
public sealed class StopTextFilter(IEnumerable<string> stopSequences)
{
    private readonly string[] _stops = [.. stopSequences.Where(s => s.Length > 0)];
    private readonly StringBuilder _pending = new();

    /// <summary>True once a stop sequence was seen; nothing after it is released.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a chunk; returns the text now known to be part of the answer.</summary>
    public string Add(string chunk)
    {
        if (Stopped) return "";
        _pending.Append(chunk);
        string text = _pending.ToString();
        int cut = FirstStop(text);
        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return text[..cut];
        }
        int keep = HeldBack(text);
        _pending.Clear().Append(text, text.Length - keep, keep);
        return text[..^keep];
    }

    /// <summary>The text still held back, released when generation ends without a stop sequence.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending.ToString();
        _pending.Clear();
        return rest;
    }

    private int FirstStop(string text)
    {
        int first = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins some stop sequence.</summary>
    private int HeldBack(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
        return longest;
    }
}
