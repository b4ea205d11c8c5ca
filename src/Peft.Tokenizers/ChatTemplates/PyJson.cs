using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Python's <c>json.dumps</c> as transformers' <c>tojson</c> filter calls it: key order kept (unless sort_keys), separators
/// ", " and ": " (or "," and ": " with an indent), no HTML escaping, non-ASCII kept unless ensure_ascii.
/// </summary>
internal sealed class PyJson
{
    private readonly bool _ensureAscii;
    private readonly string? _indent;
    private readonly string _itemSeparator;
    private readonly string _keySeparator;
    private readonly bool _sortKeys;
    private readonly StringBuilder _sb = new();

    private PyJson(bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys)
    {
        _ensureAscii = ensureAscii;
        _indent = indent;
        _itemSeparator = itemSeparator;
        _keySeparator = keySeparator;
        _sortKeys = sortKeys;
    }

    public static string Dumps(object? value, bool ensureAscii = false, object? indent = null, object? separators = null, bool sortKeys = false)
    {
        string? indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(n, 0)),
            bool b => new string(' ', b ? 1 : 0),
            string s => s,
            _ => throw new ChatTemplateException($"indent must be an int or a str, not {PyOps.TypeName(indent)}"),
        };
        string itemSeparator = indentText is null ? ", " : ",";
        string keySeparator = ": ";
        if (separators is not null)
        {
            var pair = PyOps.AsSequence(separators);
            if (pair is not { Count: 2 } || pair[0] is not string item || pair[1] is not string key)
                throw new ChatTemplateException("separators must be an (item_separator, key_separator) pair of strings");
            itemSeparator = item;
            keySeparator = key;
        }
        var writer = new PyJson(ensureAscii, indentText, itemSeparator, keySeparator, sortKeys);
        writer.Write(value, 0);
        return writer._sb.ToString();
    }

    private void Write(object? value, int level)
    {
        if (level > 500) throw new ChatTemplateException("Circular reference detected");
        switch (value)
        {
            case null: _sb.Append("null"); break;
            case bool b: _sb.Append(b ? "true" : "false"); break;
            case long l: _sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: _sb.Append(Float(d)); break;
            case string s: WriteString(s); break;
            case List<object?> or PyTuple: WriteList(PyOps.AsSequence(value)!, level); break;
            case PyDict dict: WriteDict(dict, level); break;
            default: throw new ChatTemplateException($"Object of type {PyOps.TypeName(value)} is not JSON serializable");
        }
    }

    private static string Float(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFormat.FloatRepr(d);

    private void WriteList(IReadOnlyList<object?> items, int level)
    {
        if (items.Count == 0)
        {
            _sb.Append("[]");
            return;
        }
        _sb.Append('[');
        for (int i = 0; i < items.Count; i++)
        {
            _sb.Append(i == 0 ? "" : _itemSeparator);
            NewLine(level + 1);
            Write(items[i], level + 1);
        }
        NewLine(level);
        _sb.Append(']');
    }

    private void WriteDict(PyDict dict, int level)
    {
        if (dict.Count == 0)
        {
            _sb.Append("{}");
            return;
        }
        var items = dict.Items.ToList();
        if (_sortKeys) items.Sort((a, b) => PyOps.Compare(a.Key, b.Key, "<"));
        _sb.Append('{');
        bool first = true;
        foreach (var (key, value) in items)
        {
            _sb.Append(first ? "" : _itemSeparator);
            first = false;
            NewLine(level + 1);
            WriteString(key switch
            {
                string s => s,
                bool b => b ? "true" : "false",
                null => "null",
                long l => l.ToString(CultureInfo.InvariantCulture),
                double d => Float(d),
                _ => throw new ChatTemplateException($"keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
            });
            _sb.Append(_keySeparator);
            Write(value, level + 1);
        }
        NewLine(level);
        _sb.Append('}');
    }

    private void NewLine(int level)
    {
        if (_indent is null) return;
        _sb.Append('\n');
        for (int i = 0; i < level; i++) _sb.Append(_indent);
    }

    private void WriteString(string s)
    {
        _sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                case '\b': _sb.Append("\\b"); break;
                case '\f': _sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (_ensureAscii && c > 0x7e)) _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else _sb.Append(c);
                    break;
            }
        }
        _sb.Append('"');
    }
}
