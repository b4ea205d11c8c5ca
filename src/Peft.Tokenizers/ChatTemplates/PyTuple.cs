namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// A Python tuple: an immutable sequence that prints with parentheses and never equals a list. Field names make it a
/// named tuple (groupby's <c>(grouper, list)</c>) whose items are also attributes; it still prints as a plain tuple.
/// </summary>
internal sealed class PyTuple(IReadOnlyList<object?> items, IReadOnlyList<string>? fieldNames = null)
{
    public IReadOnlyList<object?> Items { get; } = items;

    public bool TryGetField(string name, out object? value)
    {
        int index = fieldNames is null ? -1 : fieldNames.ToList().IndexOf(name);
        value = index >= 0 ? Items[index] : null;
        return index >= 0;
    }
}
