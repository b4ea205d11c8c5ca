namespace Peft.Tokenizers.ChatTemplates;

/// <summary>A Python tuple: an immutable sequence that prints with parentheses and never equals a list.</summary>
internal sealed class PyTuple(IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;
}
