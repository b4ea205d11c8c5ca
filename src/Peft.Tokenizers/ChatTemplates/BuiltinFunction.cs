namespace Peft.Tokenizers.ChatTemplates;

/// <summary>A built-in function or method implemented in C#.</summary>
internal sealed class BuiltinFunction(string name, Func<CallArguments, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(CallArguments arguments) => body(arguments);
}
