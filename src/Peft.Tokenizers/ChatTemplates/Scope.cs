namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// A frame of template variables. Loop iterations, macros and with blocks get their own frame, so what they set stays
/// inside, as in jinja2 (which is why templates use <c>namespace()</c> to carry values out of a loop).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = [];

    public Scope(Dictionary<string, object?> variables) : this((Scope?)null) => _variables = variables;

    public object? Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out var value)) return value;
        }
        return Undefined.ForName(name);
    }

    public Scope? Parent { get; } = parent;

    public void Set(string name, object? value) => _variables[name] = value;
}
