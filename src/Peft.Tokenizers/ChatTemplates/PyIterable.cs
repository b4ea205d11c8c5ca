using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// A Python iterable that is not a list: the generators jinja2's filters return (<c>select</c>, <c>map</c>,
/// <c>items</c>, ...), reverse iterators, and dict views (<c>d.items()</c>). Generators and iterators are truthy
/// whatever they hold, have no length and are used up by one pass; views have a length, a truth value and can be
/// iterated again. They print as Python prints them and tojson refuses them, as in Python.
/// </summary>
internal sealed class PyIterable
{
    private readonly Func<IReadOnlyList<object?>> _produce;
    private bool _consumed;

    private PyIterable(string typeName, Func<IReadOnlyList<object?>> produce, bool isView)
    {
        TypeName = typeName;
        _produce = produce;
        IsView = isView;
    }

    public string TypeName { get; }

    /// <summary>A dict view: sized, falsy when empty, iterable any number of times.</summary>
    public bool IsView { get; }

    /// <summary>A one-pass generator whose body runs only when it is iterated (so its errors surface then, as in Python).</summary>
    public static PyIterable Generator(string function, Func<IEnumerable<object?>> body) =>
        new("generator", () => body().ToList(), isView: false) { _function = function };

    private string _function = "";

    public static PyIterable Iterator(string typeName, Func<IEnumerable<object?>> body) => new(typeName, () => body().ToList(), isView: false);

    public static PyIterable View(string typeName, Func<IReadOnlyList<object?>> items) => new(typeName, items, isView: true);

    /// <summary>The items; a generator or iterator gives them once and is empty afterwards.</summary>
    public IReadOnlyList<object?> Consume()
    {
        if (IsView) return _produce();
        if (_consumed) return [];
        _consumed = true;
        return _produce();
    }

    public void AppendRepr(StringBuilder sb, Action<object?> appendItem)
    {
        if (!IsView)
        {
            string name = TypeName == "generator" ? "generator object " + _function : TypeName + " object";
            sb.Append('<').Append(name).Append(" at 0x7f0000000000>");
            return;
        }
        sb.Append(TypeName).Append("([");
        var items = _produce();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            appendItem(items[i]);
        }
        sb.Append("])");
    }
}
