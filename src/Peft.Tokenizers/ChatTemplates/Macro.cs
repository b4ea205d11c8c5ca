namespace Peft.Tokenizers.ChatTemplates;

/// <summary>A template macro (or the <c>caller</c> of a call block): parameters with defaults, rendered to a string when called.</summary>
internal sealed class Macro(string name, IReadOnlyList<MacroParameter> parameters, Func<CallArguments, string> invoke) : ICallable
{
    public string Name { get; } = name;

    public IReadOnlyList<MacroParameter> Parameters { get; } = parameters;

    public object? Call(CallArguments arguments) => invoke(arguments);
}
