namespace Peft.Transformers.Generation;

/// <summary>Checks whether a row's generated text contains one of the options' stop strings.</summary>
internal sealed class StopStrings(GenerationOptions options)
{
    private readonly IReadOnlyList<string> _stops = options.StopStrings ?? [];
    private readonly Func<IReadOnlyList<int>, string>? _decode = options.TextDecoder;
    private readonly List<int> _generated = [];

    /// <summary>True when the text of <paramref name="sequence"/>[<paramref name="generatedFrom"/>..] contains a stop string.</summary>
    public bool Hit(List<int> sequence, int generatedFrom)
    {
        if (_stops.Count == 0 || _decode is null) return false;
        _generated.Clear();
        for (int i = generatedFrom; i < sequence.Count; i++) _generated.Add(sequence[i]);
        string text = _decode(_generated);
        foreach (string stop in _stops)
            if (text.Contains(stop, StringComparison.Ordinal)) return true;
        return false;
    }
}
