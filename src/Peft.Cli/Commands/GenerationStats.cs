namespace Peft.Cli.Commands;

/// <summary>
/// What <c>generate --stats</c> prints, llama.cpp style: load time, prompt processing (the pass over the
/// prompt up to the first new token) and decoding (the steps after it) as separate times and rates.
/// </summary>
internal sealed class GenerationStats(TimeSpan loadTime)
{
    private long _promptTokens, _generatedTokens;
    private TimeSpan _prefill, _decode;

    /// <summary>Adds one generation: <paramref name="promptTokens"/> processed by its first step, <paramref name="decodedTokens"/> by the rest.</summary>
    public void Add(long promptTokens, TimeSpan prefill, long decodedTokens, TimeSpan decode)
    {
        _promptTokens += promptTokens;
        _prefill += prefill;
        _generatedTokens += decodedTokens;
        _decode += decode;
    }

    /// <summary>Writes the four lines.</summary>
    public void Print(TextWriter error)
    {
        error.WriteLine(Line("load time", loadTime, null, null));
        error.WriteLine(Line("prompt eval time", _prefill, _promptTokens, "prompt tokens"));
        error.WriteLine(Line("eval time", _decode, _generatedTokens, "generated tokens"));
        error.WriteLine(Line("total time", loadTime + _prefill + _decode, null, null));
    }

    private static string Line(string name, TimeSpan time, long? tokens, string? what)
    {
        string line = $"peft: {name,-16} = {time.TotalMilliseconds,10:F2} ms";
        if (tokens is long n)
            line += $" / {n,5} {what} ({(n > 0 ? time.TotalMilliseconds / n : 0),8:F2} ms per token, " +
                $"{(time.TotalSeconds > 0 ? n / time.TotalSeconds : 0),9:F2} tokens/s)";
        return line;
    }
}
