namespace Peft.Tokenizers.ChatTemplates;

/// <summary>The <c>loop</c> variable inside a for loop: position, neighbours, <c>cycle()</c> and <c>changed()</c>.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items, int depth0, Func<object?, string>? recurse) : ICallable
{
    private object? _lastChanged = new();

    public int Index0 { get; set; }

    public int Index => Index0 + 1;

    public int Length => items.Count;

    public string Name => "loop";

    public bool TryGetAttribute(string name, out object? value)
    {
        value = name switch
        {
            "index" => (long)Index,
            "index0" => (long)Index0,
            "revindex" => (long)(Length - Index0),
            "revindex0" => (long)(Length - Index0 - 1),
            "first" => Index0 == 0,
            "last" => Index0 == Length - 1,
            "length" => (long)Length,
            "depth" => (long)depth0 + 1,
            "depth0" => (long)depth0,
            "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
            "nextitem" => Index0 < Length - 1 ? items[Index0 + 1] : new Undefined("there is no next item"),
            "cycle" => new BuiltinFunction("cycle", args =>
                args.Positional.Count == 0 ? throw new ChatTemplateException("no items for cycling given") : args.Positional[Index0 % args.Positional.Count]),
            "changed" => new BuiltinFunction("changed", args =>
            {
                var current = new PyTuple(args.Positional.ToList());
                if (PyOps.Equal(current, _lastChanged)) return false;
                _lastChanged = current;
                return true;
            }),
            _ => null,
        };
        return value is not null || name is "previtem" or "nextitem";
    }

    /// <summary>Calling <c>loop(children)</c> in a recursive loop renders the loop body over the children.</summary>
    public object? Call(CallArguments arguments)
    {
        if (recurse is null) throw new ChatTemplateException("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
        return recurse(arguments.Get(0, "iterable"));
    }
}
