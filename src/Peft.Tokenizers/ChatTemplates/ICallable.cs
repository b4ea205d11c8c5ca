namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Anything a template can call: globals, macros, bound methods of strings, dicts and lists.</summary>
internal interface ICallable
{
    string Name { get; }

    object? Call(CallArguments arguments);
}

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

    public bool Has(int index, string name) =>
        (index >= 0 && index < Positional.Count) || Keywords.Any(k => k.Key == name);
}

/// <summary>A built-in function or method implemented in C#.</summary>
internal sealed class BuiltinFunction(string name, Func<CallArguments, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(CallArguments arguments) => body(arguments);
}
