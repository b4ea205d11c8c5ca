namespace Peft.Tokenizers.ChatTemplates;

/// <summary>jinja2's <c>namespace(...)</c>: the one object a template may change with <c>set ns.attribute = value</c>.</summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}
