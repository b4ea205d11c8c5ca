namespace Peft.Cli.Commands;

/// <summary>
/// Streams generated text up to (not including) the first stop string: text that could still
/// be the start of a stop string is held back until the next chunk decides.
/// </summary>
internal sealed class StopTextFilter(IReadOnlyList<string> stops)
{
    private string _pending = "";

    /// <summary>True once a stop string has been seen; nothing more is released.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a chunk; returns the text now safe to print.</summary>
    public string Add(string chunk)
    {
        if (Stopped) return "";
        _pending += chunk;
        int cut = -1;
        foreach (string stop in stops)
        {
            int at = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            string before = _pending[..cut];
            _pending = "";
            return before;
        }
        int hold = 0;
        foreach (string stop in stops)
            for (int n = Math.Min(stop.Length - 1, _pending.Length); n > hold; n--)
                if (_pending.AsSpan(_pending.Length - n).SequenceEqual(stop.AsSpan(0, n))) { hold = n; break; }
        string release = _pending[..^hold];
        _pending = _pending[^hold..];
        return release;
    }

    /// <summary>The held-back text at the end of generation (it did not become a stop string).</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }
}
