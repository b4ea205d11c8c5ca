using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// jinja2's built-in filters with their Python behaviour, plus transformers' <c>tojson</c> (plain <c>json.dumps</c>).
/// Filters that work on text first turn any value into its Python <c>str()</c>, as jinja2's soft_str does.
/// </summary>
internal static partial class Filters
{
    private delegate object? Filter(object? value, CallArguments args);

    private static readonly Dictionary<string, Filter> All = new()
    {
        ["abs"] = (v, _) => v switch
        {
            long l => (object)Math.Abs(l),
            bool b => b ? 1L : 0L,
            double d => Math.Abs(d),
            Undefined u => throw u.Fail(),
            _ => throw new ChatTemplateException($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
        },
        ["attr"] = (v, a) => PyOps.GetAttribute(v, Text(a.Get(0, "name"))),
        ["batch"] = Batch,
        ["capitalize"] = (v, _) => PythonText.Capitalize(Text(v)),
        ["center"] = (v, a) => PyStringFormat.Center(Text(v), (int)CheckedWidth(Integer(a.Get(0, "width", 80L)), "center's width"), " "),
        ["count"] = (v, _) => PyOps.Length(v),
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = (v, _) => Escape(v),
        ["escape"] = (v, _) => Escape(v),
        ["forceescape"] = (v, _) => Escape(v),
        ["first"] = (v, _) => PyOps.Iterate(v) is { Count: > 0 } items ? items[0] : new Undefined("No first item, sequence was empty."),
        ["float"] = (v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["format"] = (v, a) => PyStringFormat.Percent(Text(v), a.Keywords.Count > 0 ? KeywordDict(a) : new PyTuple(a.Positional)),
        ["groupby"] = GroupBy,
        ["indent"] = Indent,
        ["int"] = (v, a) => ToInt(v, a.Get(0, "default", 0L), (int)Integer(a.Get(1, "base", 10L))),
        ["items"] = (v, _) => PyIterable.Generator("do_items", () => v switch
        {
            Undefined => [],
            PyDict d => d.Items.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])),
            _ => throw new ChatTemplateException("Can only get item pairs from a mapping."),
        }),
        ["join"] = Join,
        ["last"] = (v, _) => v switch
        {
            PyIterable { IsView: false } => throw new ChatTemplateException($"'{PyOps.TypeName(v)}' object is not reversible"),
            _ => PyOps.Iterate(v) is { Count: > 0 } items ? items[^1] : new Undefined("No last item, sequence was empty."),
        },
        ["length"] = (v, _) => PyOps.Length(v),
        ["list"] = (v, _) => PyOps.Iterate(v).ToList(),
        ["lower"] = (v, _) => PythonText.Lower(Text(v)),
        ["map"] = Map,
        ["max"] = (v, a) => MinMax(v, a, max: true),
        ["min"] = (v, a) => MinMax(v, a, max: false),
        // pprint.pformat sorts dict keys (long values would also wrap at 80 columns, which this does not do).
        ["pprint"] = (v, _) => PyFormat.Repr(v, sortDictKeys: true),
        ["reject"] = (v, a) => Select(v, a, lookupAttribute: false, keep: false),
        ["rejectattr"] = (v, a) => Select(v, a, lookupAttribute: true, keep: false),
        ["replace"] = (v, a) =>
            PyMethods.Replace(Text(v), Text(a.Get(0, "old")), Text(a.Get(1, "new")), a.Get(2, "count") is { } count ? Integer(count) : -1),
        ["reverse"] = Reverse,
        ["round"] = Round,
        ["safe"] = (v, _) => PyFormat.Str(v),
        ["select"] = (v, a) => Select(v, a, lookupAttribute: false, keep: true),
        ["selectattr"] = (v, a) => Select(v, a, lookupAttribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, _) => PyFormat.Str(v),
        ["striptags"] = (v, _) => StripTags(Text(v)),
        ["sum"] = Sum,
        ["title"] = (v, _) => JinjaTitle(Text(v)),
        // transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) = json.dumps.
        ["tojson"] = (v, a) => PyJson.Dumps(
            v, PyOps.Truthy(a.Get(0, "ensure_ascii", false)), a.Get(1, "indent"), a.Get(2, "separators"), PyOps.Truthy(a.Get(3, "sort_keys", false))),
        ["trim"] = (v, a) => PythonText.Strip(Text(v), a.Get(0, "chars") is { } chars ? Text(chars) : null, true, true),
        ["truncate"] = Truncate,
        ["unique"] = Unique,
        ["upper"] = (v, _) => PythonText.Upper(Text(v)),
        ["wordcount"] = (v, _) => (long)WordPattern().Matches(Text(v)).Count,
    };

    public static bool Exists(string name) => All.ContainsKey(name);

    public static object? Apply(string name, object? value, CallArguments arguments)
    {
        if (!All.TryGetValue(name, out var filter)) throw new ChatTemplateException($"No filter named '{name}'.");
        return filter(value, arguments);
    }

    // jinja2's soft_str: text filters see a value's Python str() (Undefined is "").
    private static string Text(object? value) => PyFormat.Str(value);

    private static long Integer(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new ChatTemplateException($"'{PyOps.TypeName(value)}' object cannot be interpreted as an integer"),
    };

    private static PyDict KeywordDict(CallArguments args)
    {
        var dict = new PyDict();
        foreach (var (k, v) in args.Keywords) dict.Set(k, v);
        return dict;
    }

    private static object? Default(object? value, CallArguments args)
    {
        var fallback = args.Get(0, "default_value", "");
        bool boolean = PyOps.Truthy(args.Get(1, "boolean", false));
        return value is Undefined || (boolean && !PyOps.Truthy(value)) ? fallback : value;
    }

    private static string Escape(object? value) => Text(value)
        .Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    /// <summary>jinja2's make_attrgetter: "a.b.0" looks up each part with getitem; a default replaces Undefined.</summary>
    private static Func<object?, object?> AttributeGetter(object? attribute, object? fallback = null, bool ignoreCase = false)
    {
        var parts = attribute switch
        {
            null => [],
            long l => [l],
            string s => s.Split('.').Select(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? (object?)n : p).ToList(),
            _ => new List<object?> { attribute },
        };
        return item =>
        {
            foreach (var part in parts)
            {
                item = PyOps.GetItem(item, part);
                if (fallback is not null && item is Undefined) item = fallback;
            }
            return ignoreCase && item is string s ? PythonText.Lower(s) : item;
        };
    }

    private static Func<object?, object?> SortKey(object? attribute, bool caseSensitive)
    {
        if (attribute is string s && s.Contains(','))
        {
            var getters = s.Split(',').Select(p => AttributeGetter(p.Trim(), ignoreCase: !caseSensitive)).ToList();
            return item => new PyTuple(getters.Select(g => g(item)).ToList());
        }
        return AttributeGetter(attribute, ignoreCase: !caseSensitive);
    }

    private sealed class PyComparer : IComparer<object?>
    {
        public static readonly PyComparer Instance = new();

        public int Compare(object? x, object? y) => PyOps.Compare(x, y, "<");
    }

    // LINQ's stable sorts wrap a comparer's exception; surface the Python-style one.
    private static List<T> Sorted<T>(Func<IEnumerable<T>> sort)
    {
        try
        {
            return sort().ToList();
        }
        catch (InvalidOperationException e) when (e.InnerException is ChatTemplateException inner)
        {
            throw inner;
        }
    }

    private static object? Sort(object? value, CallArguments args)
    {
        bool reverse = PyOps.Truthy(args.Get(0, "reverse", false));
        bool caseSensitive = PyOps.Truthy(args.Get(1, "case_sensitive", false));
        var key = SortKey(args.Get(2, "attribute"), caseSensitive);
        var items = PyOps.Iterate(value);
        return Sorted(() => reverse ? items.OrderByDescending(key, PyComparer.Instance) : items.OrderBy(key, PyComparer.Instance));
    }

    private static object? DictSort(object? value, CallArguments args)
    {
        bool caseSensitive = PyOps.Truthy(args.Get(0, "case_sensitive", false));
        string by = Text(args.Get(1, "by", "key"));
        bool reverse = PyOps.Truthy(args.Get(2, "reverse", false));
        if (value is not PyDict dict) throw new ChatTemplateException("dictsort: value must be a mapping");
        int position = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new ChatTemplateException("You can only sort by either \"key\" or \"value\""),
        };
        object? Key(KeyValuePair<object?, object?> kv)
        {
            var v = position == 0 ? kv.Key : kv.Value;
            return !caseSensitive && v is string s ? PythonText.Lower(s) : v;
        }
        var sorted = Sorted(() => reverse ? dict.Items.OrderByDescending(Key, PyComparer.Instance) : dict.Items.OrderBy(Key, PyComparer.Instance));
        return sorted.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
    }

    // jinja2 returns reversed(value) (a one-pass iterator) when Python can reverse it, else a reversed list.
    private static object? Reverse(object? value, CallArguments args) => value switch
    {
        string s => string.Concat(PythonText.CodePoints(s).AsEnumerable().Reverse()),
        List<object?> list => PyIterable.Iterator("list_reverseiterator", () => list.AsEnumerable().Reverse().ToList()),
        PyTuple tuple => PyIterable.Iterator("reversed", () => tuple.Items.Reverse().ToList()),
        PyDict dict => PyIterable.Iterator("dict_reversekeyiterator", () => dict.Keys.Reverse().ToList()),
        PyRange range => PyIterable.Iterator("range_iterator", () => range.ToList().AsEnumerable().Reverse().ToList()),
        PyIterable { IsView: true } view => PyIterable.Iterator(
            view.TypeName.Replace("dict_", "dict_reverse").TrimEnd('s') + "iterator", () => view.Consume().Reverse().ToList()),
        Undefined => PyIterable.Iterator("reversed", () => []),
        _ when PyOps.IsIterable(value) => PyOps.Iterate(value).Reverse().ToList(),
        _ => throw new ChatTemplateException("argument must be iterable"),
    };

    private static object? Unique(object? value, CallArguments args)
    {
        bool caseSensitive = PyOps.Truthy(args.Get(0, "case_sensitive", false));
        var key = AttributeGetter(args.Get(1, "attribute"), ignoreCase: !caseSensitive);
        return PyIterable.Generator("sync_do_unique", () =>
        {
            var seen = new PyDict();
            var result = new List<object?>();
            foreach (var item in PyOps.Iterate(value))
            {
                var k = key(item);
                if (seen.ContainsKey(k)) continue;
                seen.Set(k, null);
                result.Add(item);
            }
            return result;
        });
    }

    private static object? MinMax(object? value, CallArguments args, bool max)
    {
        bool caseSensitive = PyOps.Truthy(args.Get(0, "case_sensitive", false));
        var key = AttributeGetter(args.Get(1, "attribute"), ignoreCase: !caseSensitive);
        var items = PyOps.Iterate(value);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            int c = PyOps.Compare(key(item), key(best), "<");
            if (max ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    private static object? Sum(object? value, CallArguments args)
    {
        var key = AttributeGetter(args.Get(0, "attribute"));
        object? total = args.Get(1, "start", 0L);
        foreach (var item in PyOps.Iterate(value)) total = PyOps.Add(total, key(item));
        return total;
    }

    private static object? Join(object? value, CallArguments args)
    {
        string separator = Text(args.Get(0, "d", ""));
        var attribute = args.Get(1, "attribute");
        var items = PyOps.Iterate(value);
        if (attribute is not null)
        {
            var key = AttributeGetter(attribute);
            items = items.Select(key).ToList();
        }
        return string.Join(separator, items.Select(Text));
    }

    private static object? Map(object? value, CallArguments args)
    {
        Func<object?, object?> map;
        if (args.Positional.Count == 0 && args.Keywords.Any(k => k.Key == "attribute"))
        {
            var attribute = args.Get(-1, "attribute");
            map = AttributeGetter(attribute, args.Get(-1, "default"));
        }
        else
        {
            if (args.Positional.Count == 0) throw new ChatTemplateException("map requires a filter argument");
            string name = Text(args.Positional[0]);
            var rest = new CallArguments(args.Positional.Skip(1).ToList(), args.Keywords);
            map = item => Apply(name, item, rest);
        }
        // jinja2's map (like select and reject) yields nothing for a falsy value, even None.
        return PyIterable.Generator("sync_do_map", () => PyOps.Truthy(value) ? PyOps.Iterate(value).Select(map) : []);
    }

    private static object? Select(object? value, CallArguments args, bool lookupAttribute, bool keep)
    {
        int offset = 0;
        Func<object?, object?> transform = x => x;
        if (lookupAttribute)
        {
            if (args.Positional.Count == 0) throw new ChatTemplateException("Missing parameter for attribute name");
            transform = AttributeGetter(args.Positional[0]);
            offset = 1;
        }
        Func<object?, bool> test;
        if (args.Positional.Count > offset)
        {
            string name = Text(args.Positional[offset]);
            var rest = new CallArguments(args.Positional.Skip(offset + 1).ToList(), args.Keywords);
            test = item => JinjaTests.Run(name, item, rest);
        }
        else test = PyOps.Truthy;
        return PyIterable.Generator("select_or_reject", () => PyOps.Truthy(value) ? PyOps.Iterate(value).Where(item => test(transform(item)) == keep) : []);
    }

    private static object? Batch(object? value, CallArguments args)
    {
        long size = Integer(args.Get(0, "linecount"));
        var fillWith = args.Get(1, "fill_with");
        return PyIterable.Generator("do_batch", () =>
        {
            var result = new List<object?>();
            List<object?>? current = null;
            foreach (var item in PyOps.Iterate(value))
            {
                if (current is null || current.Count == size)
                {
                    current = [];
                    result.Add(current);
                }
                current.Add(item);
            }
            if (fillWith is not null && current is not null) while (current.Count < size) current.Add(fillWith);
            return result;
        });
    }

    private static readonly string[] GroupFields = ["grouper", "list"];

    private static object? GroupBy(object? value, CallArguments args)
    {
        bool caseSensitive = PyOps.Truthy(args.Get(2, "case_sensitive", false));
        var key = AttributeGetter(args.Get(0, "attribute"), args.Get(1, "default"), ignoreCase: !caseSensitive);
        var keyOriginal = AttributeGetter(args.Get(0, "attribute"), args.Get(1, "default"));
        var sorted = Sorted(() => PyOps.Iterate(value).OrderBy(key, PyComparer.Instance));
        var result = new List<object?>();
        for (int i = 0; i < sorted.Count;)
        {
            var groupKey = key(sorted[i]);
            var members = new List<object?>();
            var shownKey = keyOriginal(sorted[i]);
            while (i < sorted.Count && PyOps.Equal(key(sorted[i]), groupKey)) members.Add(sorted[i++]);
            result.Add(new PyTuple([shownKey, members], GroupFields));
        }
        return result;
    }

    private static long CheckedWidth(long width, string what)
    {
        TemplateLimits.CheckLength(width, what);
        return width;
    }

    private static object? Indent(object? value, CallArguments args)
    {
        var width = args.Get(0, "width", 4L);
        string indentation = width is string w ? w : new string(' ', (int)Math.Max(CheckedWidth(Integer(width), "indent's width"), 0));
        bool first = PyOps.Truthy(args.Get(1, "first", false));
        bool blank = PyOps.Truthy(args.Get(2, "blank", false));
        // jinja2 appends "\n" to the value itself: anything but a string fails (Undefined with its own message).
        string text = value switch
        {
            string s => s + "\n",
            Undefined undefined => throw undefined.Fail(),
            _ => throw new ChatTemplateException($"unsupported operand type(s) for +=: '{PyOps.TypeName(value)}' and 'str'"),
        };
        var lines = PythonText.SplitLines(text);
        string result;
        if (blank) result = string.Join("\n" + indentation, lines);
        else
        {
            result = lines[0];
            if (lines.Count > 1) result += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indentation + l : l));
        }
        return first ? indentation + result : result;
    }

    private static object? Round(object? value, CallArguments args)
    {
        long precision = Integer(args.Get(0, "precision", 0L));
        string method = Text(args.Get(1, "method", "common"));
        if (value is long or bool && method == "common") return value is bool b ? (b ? 1L : 0L) : value;
        if (!PyOps.IsNumber(value)) throw new ChatTemplateException($"type {PyOps.TypeName(value)} doesn't define __round__ method");
        double d = PyOps.AsDouble(value);
        double scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(d, (int)Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(d * scale) / scale,
            "floor" => Math.Floor(d * scale) / scale,
            _ => throw new ChatTemplateException("method must be common, ceil or floor"),
        };
    }

    private static object? ToInt(object? value, object? fallback, int numberBase)
    {
        switch (value)
        {
            case Undefined u: throw u.Fail();
            case long or bool: return Integer(value);
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case string s:
                string t = s.Trim().Replace("_", "");
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return n;
                    if (numberBase != 10) return Convert.ToInt64(t, numberBase);
                }
                catch (FormatException) { }
                catch (ArgumentException) { }
                bool isFloat = double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f);
                return isFloat ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        Undefined u => throw u.Fail(),
        long or bool or double => PyOps.AsDouble(value),
        string s when double.TryParse(s.Trim().Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        string s when s.Trim().ToLowerInvariant() is "inf" or "+inf" or "infinity" => double.PositiveInfinity,
        string s when s.Trim().ToLowerInvariant() is "-inf" or "-infinity" => double.NegativeInfinity,
        string s when s.Trim().ToLowerInvariant() is "nan" => double.NaN,
        _ => fallback,
    };

    private static object? Truncate(object? value, CallArguments args)
    {
        // jinja2 measures the value itself: a short sized value comes back unchanged, an unsized one fails.
        if (value is Undefined) return value;
        if (value is not string)
        {
            long size = PyOps.Length(value);
            return size <= Integer(args.Get(0, "length", 255L)) + Integer(args.Get(3, "leeway", 5L))
                ? value
                : throw new ChatTemplateException($"'{PyOps.TypeName(value)}' object has no attribute 'rsplit'");
        }
        string s = (string)value;
        long length = Integer(args.Get(0, "length", 255L));
        bool killWords = PyOps.Truthy(args.Get(1, "killwords", false));
        string end = Text(args.Get(2, "end", "..."));
        long leeway = Integer(args.Get(3, "leeway", 5L));
        var points = PythonText.CodePoints(s);
        if (points.Count <= length + leeway) return s;
        string head = string.Concat(points.Take((int)Math.Max(0, length - PythonText.Length(end))));
        if (killWords) return head + end;
        int space = head.LastIndexOf(' ');
        return (space >= 0 ? head[..space] : head) + end;
    }

    private static string StripTags(string text)
    {
        string withoutTags = TagPattern().Replace(text, "");
        string collapsed = string.Join(" ", PythonText.Split(withoutTags, null, -1).Cast<string>());
        return System.Net.WebUtility.HtmlDecode(collapsed);
    }

    // jinja2's title filter: every word starts after a run of spaces, '-', '(', '{', '[' or '<'.
    private static string JinjaTitle(string text)
    {
        var sb = new StringBuilder();
        foreach (string item in WordBeginningPattern().Split(text))
        {
            sb.Append(PythonText.UpperFirstLowerRest(item));
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"(<!--.*?-->|<[^>]*>)", RegexOptions.Singleline)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginningPattern();
}
