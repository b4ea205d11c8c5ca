namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Python's <c>range</c> object, which jinja2's sandboxed <c>range()</c> returns: a sized, indexable, re-iterable
/// sequence that prints as <c>range(0, 3)</c>, slices to another range and is refused by tojson.
/// </summary>
internal sealed class PyRange
{
    public PyRange(long start, long stop, long step)
    {
        Start = start;
        Stop = stop;
        Step = step;
        long span = step > 0 ? stop - start : start - stop;
        long magnitude = Math.Abs(step);
        Count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
    }

    public long Start { get; }

    public long Stop { get; }

    public long Step { get; }

    public long Count { get; }

    public long this[long index] => Start + index * Step;

    public List<object?> ToList()
    {
        var items = new List<object?>((int)Math.Min(Count, 100_000));
        for (long i = 0; i < Count; i++) items.Add(this[i]);
        return items;
    }

    public override string ToString() => Step == 1 ? $"range({Start}, {Stop})" : $"range({Start}, {Stop}, {Step})";
}
