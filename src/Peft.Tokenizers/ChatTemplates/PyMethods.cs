using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// The Python methods of str, dict, list and tuple that templates call. Mutating methods (list.append, dict.update,
/// ...) exist in Python but ImmutableSandboxedEnvironment refuses them: they resolve to an Undefined that fails
/// when called, with jinja2's "access to attribute ... is unsafe" message.
/// </summary>
internal static class PyMethods
{
    private static readonly HashSet<string> UnsafeListMethods = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    private static readonly HashSet<string> UnsafeDictMethods = ["update", "pop", "popitem", "setdefault", "clear"];

    public static object? Bind(object target, string name) => target switch
    {
        string s => BindString(s, name),
        PyDict d => BindDict(d, name),
        List<object?> l => UnsafeListMethods.Contains(name) ? Unsafe(target, name) : BindSequence(l, name, isList: true),
        PyTuple t => BindSequence(t.Items, name, isList: false),
        PyRange r => BindSequence(r.ToList(), name, isList: false),
        _ => null,
    };

    private static Undefined Unsafe(object target, string name) =>
        new($"access to attribute '{name}' of '{PyOps.TypeName(target)}' object is unsafe.");

    private static BuiltinFunction Method(string name, Func<CallArguments, object?> body) => new(name, body);

    private static string? OptionalString(CallArguments args, int index, string name) => args.Get(index, name) switch
    {
        null => null,
        string s => s,
        var other => throw new ChatTemplateException($"{name} arg must be None or str, not {PyOps.TypeName(other)}"),
    };

    private static string RequiredString(CallArguments args, int index, string name, string method) => args.Get(index, name, Missing) switch
    {
        string s => s,
        var other when ReferenceEquals(other, Missing) => throw new ChatTemplateException($"{method}() missing required argument '{name}'"),
        var other => throw new ChatTemplateException($"must be str, not {PyOps.TypeName(other)}"),
    };

    private static readonly object Missing = new();

    /// <summary>A padding method's width (negative: none), checked before a string that wide is built.</summary>
    private static int Width(CallArguments args, string method)
    {
        long width = IntArgument(args, 0, "width", 0);
        TemplateLimits.CheckLength(width, $"{method}()'s width");
        return (int)Math.Max(width, 0);
    }

    private static long IntArgument(CallArguments args, int index, string name, long fallback) => args.Get(index, name) switch
    {
        null => fallback,
        long l => l,
        bool b => b ? 1 : 0,
        var other => throw new ChatTemplateException($"'{PyOps.TypeName(other)}' object cannot be interpreted as an integer"),
    };

    private static object? BindString(string s, string name) => name switch
    {
        "strip" => Method(name, a => PythonText.Strip(s, OptionalString(a, 0, "chars"), true, true)),
        "lstrip" => Method(name, a => PythonText.Strip(s, OptionalString(a, 0, "chars"), true, false)),
        "rstrip" => Method(name, a => PythonText.Strip(s, OptionalString(a, 0, "chars"), false, true)),
        "split" => Method(name, a => PythonText.Split(s, OptionalString(a, 0, "sep"), IntArgument(a, 1, "maxsplit", -1))),
        "rsplit" => Method(name, a => PythonText.RSplit(s, OptionalString(a, 0, "sep"), IntArgument(a, 1, "maxsplit", -1))),
        "splitlines" => Method(name, _ => PythonText.SplitLines(s).Cast<object?>().ToList()),
        "startswith" => Method(name, a => Affix(s, a.Get(0, "prefix"), name, (x, p) => x.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Method(name, a => Affix(s, a.Get(0, "suffix"), name, (x, p) => x.EndsWith(p, StringComparison.Ordinal))),
        "upper" => Method(name, _ => PythonText.Upper(s)),
        "lower" => Method(name, _ => PythonText.Lower(s)),
        "casefold" => Method(name, _ => PythonText.Lower(s)),
        "title" => Method(name, _ => PythonText.Title(s)),
        "capitalize" => Method(name, _ => PythonText.Capitalize(s)),
        "swapcase" => Method(name, _ => string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)))),
        "replace" => Method(name, a => Replace(s, RequiredString(a, 0, "old", name), RequiredString(a, 1, "new", name), IntArgument(a, 2, "count", -1))),
        "find" => Method(name, a => (long)IndexOf(s, RequiredString(a, 0, "sub", name))),
        "rfind" => Method(name, a => (long)LastIndexOf(s, RequiredString(a, 0, "sub", name))),
        "index" => Method(name, a =>
            IndexOf(s, RequiredString(a, 0, "sub", name)) is var i and >= 0 ? (long)i : throw new ChatTemplateException("substring not found")),
        "count" => Method(name, a => (long)Count(s, RequiredString(a, 0, "sub", name))),
        "join" => Method(name, a => string.Join(s, PyOps.Iterate(a.Get(0, "iterable")).Select(x =>
            x as string ?? throw new ChatTemplateException($"sequence item: expected str instance, {PyOps.TypeName(x)} found")))),
        "format" => Method(name, a => PyStringFormat.Format(s, a)),
        "isdigit" or "isnumeric" or "isdecimal" => Method(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => Method(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => Method(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => Method(name, _ => s.Length > 0 && s.All(PythonText.IsWhitespace)),
        "isupper" => Method(name, _ => s.Any(char.IsUpper) && !s.Any(char.IsLower)),
        "islower" => Method(name, _ => s.Any(char.IsLower) && !s.Any(char.IsUpper)),
        "istitle" => Method(name, _ => s.Any(char.IsLetter) && PythonText.Title(s) == s),
        "zfill" => Method(name, a => ZFill(s, Width(a, name))),
        "center" => Method(name, a => PyStringFormat.Center(s, Width(a, name), OptionalString(a, 1, "fillchar") ?? " ")),
        "ljust" => Method(name, a => s.PadRight(Width(a, name), (OptionalString(a, 1, "fillchar") ?? " ")[0])),
        "rjust" => Method(name, a => s.PadLeft(Width(a, name), (OptionalString(a, 1, "fillchar") ?? " ")[0])),
        "removeprefix" => Method(name, a => RequiredString(a, 0, "prefix", name) is var p && s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s),
        "removesuffix" => Method(name, a =>
            RequiredString(a, 0, "suffix", name) is var p && p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s),
        "partition" => Method(name, a => Partition(s, RequiredString(a, 0, "sep", name), fromRight: false)),
        "rpartition" => Method(name, a => Partition(s, RequiredString(a, 0, "sep", name), fromRight: true)),
        _ => null,
    };

    private static object? BindDict(PyDict d, string name)
    {
        if (UnsafeDictMethods.Contains(name)) return Unsafe(d, name);
        return name switch
        {
            "get" => Method(name, a => d.TryGetValue(a.Get(0, "key"), out var v) ? v : a.Get(1, "default")),
            "items" => Method(name, _ => PyIterable.View("dict_items", () => d.Items.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList())),
            "keys" => Method(name, _ => PyIterable.View("dict_keys", () => d.Keys.ToList())),
            "values" => Method(name, _ => PyIterable.View("dict_values", () => d.Values.ToList())),
            "copy" => Method(name, _ =>
            {
                var copy = new PyDict();
                foreach (var (k, v) in d.Items) copy.Set(k, v);
                return copy;
            }),
            _ => null,
        };
    }

    private static object? BindSequence(IReadOnlyList<object?> items, string name, bool isList) => name switch
    {
        "index" => Method(name, a =>
        {
            var wanted = a.Get(0, "value");
            for (int i = 0; i < items.Count; i++) if (PyOps.Equal(items[i], wanted)) return (long)i;
            throw new ChatTemplateException($"{PyFormat.Repr(wanted)} is not in {(isList ? "list" : "tuple")}");
        }),
        "count" => Method(name, a => (long)items.Count(x => PyOps.Equal(x, a.Get(0, "value")))),
        "copy" when isList => Method(name, _ => items.ToList()),
        _ => null,
    };

    private static bool Affix(string s, object? affix, string method, Func<string, string, bool> test) => affix switch
    {
        string p => test(s, p),
        PyTuple t => t.Items.Any(x => x is string p
            ? test(s, p)
            : throw new ChatTemplateException($"tuple for {method} must only contain str, not {PyOps.TypeName(x)}")),
        _ => throw new ChatTemplateException($"{method} first arg must be str or a tuple of str, not {PyOps.TypeName(affix)}"),
    };

    public static string Replace(string s, string old, string replacement, long count)
    {
        // At most one replacement per character (or between characters, for an empty old): bounded before anything is built.
        long most = old.Length == 0 ? s.Length + 1L : s.Length / old.Length;
        if (replacement.Length > old.Length)
            TemplateLimits.CheckRepeat(replacement.Length - old.Length, count < 0 ? most : Math.Min(count, most), "the result of replace()");
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement, -1) : s.Replace(old, replacement, StringComparison.Ordinal);
        if (old.Length == 0) return InsertEverywhere(s, replacement, count);
        var sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, from, at - from).Append(replacement);
            from = at + old.Length;
        }
        return sb.Append(s, from, s.Length - from).ToString();
    }

    // Python's "abc".replace("", "-") == "-a-b-c-".
    private static string InsertEverywhere(string s, string insert, long count)
    {
        var points = PythonText.CodePoints(s);
        var sb = new StringBuilder();
        long done = 0;
        for (int i = 0; i <= points.Count; i++)
        {
            if (count < 0 || done < count)
            {
                sb.Append(insert);
                done++;
            }
            if (i < points.Count) sb.Append(points[i]);
        }
        return sb.ToString();
    }

    private static int IndexOf(string s, string sub)
    {
        int at = s.IndexOf(sub, StringComparison.Ordinal);
        return at < 0 ? -1 : PythonText.Length(s[..at]);
    }

    private static int LastIndexOf(string s, string sub)
    {
        int at = s.LastIndexOf(sub, StringComparison.Ordinal);
        return at < 0 ? -1 : PythonText.Length(s[..at]);
    }

    private static int Count(string s, string sub)
    {
        if (sub.Length == 0) return PythonText.Length(s) + 1;
        int count = 0, from = 0;
        while ((from = s.IndexOf(sub, from, StringComparison.Ordinal)) >= 0)
        {
            count++;
            from += sub.Length;
        }
        return count;
    }

    private static string ZFill(string s, int width)
    {
        TemplateLimits.CheckLength(width, "zfill()'s width");
        if (s.Length >= width) return s;
        int signLength = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
        return s[..signLength] + new string('0', width - s.Length) + s[signLength..];
    }

    private static PyTuple Partition(string s, string separator, bool fromRight)
    {
        int at = fromRight ? s.LastIndexOf(separator, StringComparison.Ordinal) : s.IndexOf(separator, StringComparison.Ordinal);
        if (at < 0) return fromRight ? new PyTuple(["", "", s]) : new PyTuple([s, "", ""]);
        return new PyTuple([s[..at], separator, s[(at + separator.Length)..]]);
    }
}
