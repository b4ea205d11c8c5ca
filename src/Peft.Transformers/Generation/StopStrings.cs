using System.Text;
using Peft.Tokenizers;

namespace Peft.Transformers.Generation;

/// <summary>
/// Checks whether a row's generated text contains one of the options' stop strings. Each row's
/// text is streamed (<see cref="StreamingDecoder"/>) and only its last characters, as many as the
/// longest stop string, are searched again, so a step costs the same however long the text is.
/// </summary>
internal sealed class StopStrings
{
    private readonly IReadOnlyList<string> _stops;
    private readonly StreamingDecoder[] _text;
    private readonly StringBuilder[] _tail;
    private readonly int[] _fed;
    private readonly int _longest;

    public StopStrings(GenerationOptions options, int rows)
    {
        _stops = options.StopStrings ?? [];
        bool active = _stops.Count > 0 && options.TextDecoder is not null;
        _text = new StreamingDecoder[active ? rows : 0];
        _tail = new StringBuilder[_text.Length];
        _fed = new int[_text.Length];
        for (int r = 0; r < _text.Length; r++)
        {
            _text[r] = new StreamingDecoder(options.TextDecoder!);
            _tail[r] = new StringBuilder();
        }
        _longest = _stops.Count == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>
    /// True when the text of <paramref name="sequence"/>[<paramref name="generatedFrom"/>..] (row <paramref name="row"/>) contains a stop string.
    /// </summary>
    public bool Hit(int row, List<int> sequence, int generatedFrom)
    {
        if (_text.Length == 0) return false;
        var tail = _tail[row];
        bool hit = false;
        for (int i = generatedFrom + _fed[row]; i < sequence.Count; i++)
        {
            _fed[row]++;
            string fresh = _text[row].Add(sequence[i]);
            if (fresh.Length == 0) continue;
            tail.Append(fresh);
            string recent = tail.ToString();
            foreach (string stop in _stops)
                if (recent.Contains(stop, StringComparison.Ordinal)) hit = true;
            // A stop string that starts in text already searched ends in what comes next: keep its length less one.
            if (tail.Length >= _longest) tail.Remove(0, tail.Length - (_longest - 1));
        }
        return hit;
    }
}
