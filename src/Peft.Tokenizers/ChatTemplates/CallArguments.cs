namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Evaluated call arguments: positional values and keyword values in the order written.</summary>
internal sealed class CallArguments(List<object?> positional, List<KeyValuePair<string, object?>> keywords)
{
    public static CallArguments Empty => new([], []);

    public List<object?> Positional { get; } = positional;

    public List<KeyValuePair<string, object?>> Keywords { get; } = keywords;

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        if (index >= 0 && index < Positional.Count) return Positional[index];
        foreach (var (key, value) in Keywords) if (key == name) return value;
        return fallback;
    }
}
