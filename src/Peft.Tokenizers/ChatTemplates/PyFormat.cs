using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Python's <c>str()</c> and <c>repr()</c> of template values, including float repr and string quoting.</summary>
internal static class PyFormat
{
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value, bool sortDictKeys = false)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value, 0, sortDictKeys);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value, int depth, bool sortDictKeys = false)
    {
        if (depth > 200) throw new ChatTemplateException("maximum recursion depth exceeded while getting the repr of an object");
        switch (value)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i], depth + 1, sortDictKeys);
                }
                sb.Append(']');
                break;
            case PyTuple tuple:
                sb.Append('(');
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, tuple.Items[i], depth + 1, sortDictKeys);
                }
                if (tuple.Items.Count == 1) sb.Append(',');
                sb.Append(')');
                break;
            case PyDict dict:
                sb.Append('{');
                bool first = true;
                var items = sortDictKeys ? dict.Items.OrderBy(kv => kv.Key, Comparer<object?>.Create((x, y) => PyOps.Compare(x, y, "<"))) : dict.Items;
                foreach (var (k, v) in items)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, k, depth + 1, sortDictKeys);
                    sb.Append(": ");
                    AppendRepr(sb, v, depth + 1, sortDictKeys);
                }
                sb.Append('}');
                break;
            case Undefined: sb.Append("Undefined"); break;
            case PyRange range: sb.Append(range.ToString()); break;
            case PyIterable iterable: iterable.AppendRepr(sb, item => AppendRepr(sb, item, depth + 1)); break;
            case Namespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ns.Attributes, depth + 1);
                sb.Append('>');
                break;
            case Macro macro: sb.Append("<Macro '").Append(macro.Name).Append("'>"); break;
            case LoopContext loop: sb.Append("<LoopContext ").Append(loop.Index).Append('/').Append(loop.Length).Append('>'); break;
            case ICallable callable: sb.Append("<built-in method ").Append(callable.Name).Append('>'); break;
            default: sb.Append(value.ToString()); break;
        }
    }

    /// <summary>repr(str): single quotes unless the text has ' and no ", Python's escapes for the rest.</summary>
    public static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c < 0x7f) sb.Append((char)c);
            else if (PythonText.IsPrintable(rune)) sb.Append(rune.ToString());
            else if (c <= 0xff) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c <= 0xffff) sb.Append("\\u").Append(c.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(c.ToString("x8", CultureInfo.InvariantCulture));
        }
        // Lone surrogates never reach here: EnumerateRunes replaces them, and JSON input cannot carry them.
        sb.Append(quote);
    }

    /// <summary>float.__repr__: the shortest round-trip digits, fixed notation for exponents -4..15, else 1e+16 style.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";

        string r = d.ToString("R", CultureInfo.InvariantCulture);
        bool negative = r.StartsWith('-');
        if (negative) r = r[1..];
        int exponent = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        string digits = dot >= 0 ? r.Remove(dot, 1) : r;
        int pointPosition = (dot >= 0 ? dot : r.Length) + exponent;
        int leadingZeros = 0;
        while (leadingZeros < digits.Length - 1 && digits[leadingZeros] == '0') leadingZeros++;
        digits = digits[leadingZeros..];
        pointPosition -= leadingZeros;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";

        int scientificExponent = pointPosition - 1;
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (scientificExponent is >= -4 and < 16)
        {
            if (pointPosition <= 0) sb.Append("0.").Append('0', -pointPosition).Append(digits);
            else if (pointPosition >= digits.Length) sb.Append(digits).Append('0', pointPosition - digits.Length).Append(".0");
            else sb.Append(digits, 0, pointPosition).Append('.').Append(digits, pointPosition, digits.Length - pointPosition);
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(scientificExponent < 0 ? '-' : '+');
            sb.Append(Math.Abs(scientificExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
