namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// The functions every template sees: jinja2's <c>range</c>, <c>dict</c>, <c>namespace</c>, <c>cycler</c>, <c>joiner</c>,
/// and transformers' <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
internal static class Globals
{
    private const long MaxRange = 100_000;

    public static Dictionary<string, object?> Create(Func<DateTime> clock) => new()
    {
        ["range"] = new BuiltinFunction("range", Range),
        ["dict"] = new BuiltinFunction("dict", args => ToDict(args)),
        ["namespace"] = new BuiltinFunction("namespace", args =>
        {
            var ns = new Namespace();
            foreach (var (k, v) in ToDict(args).Items) ns.Attributes.Set(k, v);
            return ns;
        }),
        ["raise_exception"] = new BuiltinFunction("raise_exception", args =>
            throw new ChatTemplateException(PyFormat.Str(args.Get(0, "message", "")), raisedByTemplate: true)),
        ["strftime_now"] = new BuiltinFunction("strftime_now", args =>
            PyStrftime.Format(clock(), args.Get(0, "format") as string ?? throw new ChatTemplateException("strftime_now() argument must be str"))),
        ["cycler"] = new BuiltinFunction("cycler", Cycler),
        ["joiner"] = new BuiltinFunction("joiner", args =>
        {
            string separator = PyFormat.Str(args.Get(0, "sep", ", "));
            bool used = false;
            return new BuiltinFunction("joiner", _ =>
            {
                if (used) return separator;
                used = true;
                return "";
            });
        }),
    };

    private static PyDict ToDict(CallArguments args)
    {
        var dict = new PyDict();
        if (args.Positional.Count > 0)
        {
            switch (args.Positional[0])
            {
                case PyDict source:
                    foreach (var (k, v) in source.Items) dict.Set(k, v);
                    break;
                case var pairs:
                    foreach (var pair in PyOps.Iterate(pairs))
                    {
                        var items = PyOps.Iterate(pair);
                        if (items.Count != 2) throw new ChatTemplateException("dictionary update sequence element has wrong length; 2 is required");
                        dict.Set(items[0], items[1]);
                    }
                    break;
            }
        }
        foreach (var (k, v) in args.Keywords) dict.Set(k, v);
        return dict;
    }

    private static object? Range(CallArguments args)
    {
        long Arg(int i) => args.Positional[i] switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            Undefined u => throw u.Fail(),
            var v => throw new ChatTemplateException($"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer"),
        };
        long start = 0, stop, step = 1;
        switch (args.Positional.Count)
        {
            case 1: stop = Arg(0); break;
            case 2: start = Arg(0); stop = Arg(1); break;
            case 3: start = Arg(0); stop = Arg(1); step = Arg(2); break;
            default: throw new ChatTemplateException($"range expected at most 3 arguments, got {args.Positional.Count}");
        }
        if (step == 0) throw new ChatTemplateException("range() arg 3 must not be zero");
        var range = new PyRange(start, stop, step);
        if (range.Count > MaxRange) throw new ChatTemplateException($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
        return range;
    }

    private static object? Cycler(CallArguments args)
    {
        var items = args.Positional.ToList();
        int position = 0;
        var cycler = new Namespace();
        cycler.Attributes.Set("next", new BuiltinFunction("next", _ =>
        {
            var item = items[position];
            position = (position + 1) % items.Count;
            return item;
        }));
        cycler.Attributes.Set("reset", new BuiltinFunction("reset", _ =>
        {
            position = 0;
            return null;
        }));
        return cycler;
    }
}
