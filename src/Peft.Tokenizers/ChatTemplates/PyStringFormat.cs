using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Python string formatting: <c>"%s" % value</c>, <c>str.format</c> and <c>str.center</c>, covering the common specs.</summary>
internal static class PyStringFormat
{
    public static string Center(string s, int width, string fill)
    {
        TemplateLimits.CheckLength(width, "center()'s width");
        int length = PythonText.Length(s);
        if (width <= length) return s;
        int margin = width - length;
        int left = margin / 2 + (margin & width & 1);
        return Repeat(fill, left) + s + Repeat(fill, margin - left);
    }

    private static string Repeat(string s, int times) => times <= 0 ? "" : string.Concat(Enumerable.Repeat(s, times));

    /// <summary><c>format % values</c>: a tuple supplies positional values, a dict named ones (<c>%(name)s</c>).</summary>
    public static string Percent(string format, object? values)
    {
        IReadOnlyList<object?> positional = values is PyTuple t ? t.Items : [values];
        var named = values as PyDict;
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= format.Length) throw new ChatTemplateException("incomplete format");
            object? value;
            string? key = null;
            if (format[i] == '(')
            {
                int close = format.IndexOf(')', i);
                if (close < 0) throw new ChatTemplateException("incomplete format key");
                key = format[(i + 1)..close];
                i = close + 1;
            }
            int specStart = i;
            while (i < format.Length && "-+ #0".Contains(format[i])) i++;
            while (i < format.Length && (char.IsDigit(format[i]) || format[i] == '.')) i++;
            if (i >= format.Length) throw new ChatTemplateException("incomplete format");
            char conversion = format[i];
            if (conversion == '%')
            {
                sb.Append('%');
                continue;
            }
            if (key is not null)
            {
                if (named is null) throw new ChatTemplateException("format requires a mapping");
                if (!named.TryGetValue(key, out value)) throw new ChatTemplateException($"KeyError: {PyFormat.Repr(key)}");
            }
            else
            {
                if (next >= positional.Count) throw new ChatTemplateException("not enough arguments for format string");
                value = positional[next++];
            }
            sb.Append(ApplySpec(value, format[specStart..i] + conversion, percentStyle: true));
        }
        // Python skips this check when the value has __getitem__ (a dict, a list, Undefined) and is not a tuple or str.
        bool mappingLike = values is PyDict or List<object?> or Undefined;
        if (!mappingLike && next < positional.Count) throw new ChatTemplateException("not all arguments converted during string formatting");
        return sb.ToString();
    }

    /// <summary><c>str.format(*args, **kwargs)</c> with auto/explicit indexes, names, <c>!r</c>/<c>!s</c> and a basic spec.</summary>
    public static string Format(string format, CallArguments arguments)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}') i++;
                else throw new ChatTemplateException("Single '}' encountered in format string");
                sb.Append('}');
                continue;
            }
            if (c != '{')
            {
                sb.Append(c);
                continue;
            }
            if (i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }
            int close = format.IndexOf('}', i);
            if (close < 0) throw new ChatTemplateException("Single '{' encountered in format string");
            string field = format[(i + 1)..close];
            i = close;
            string spec = "";
            int colon = field.IndexOf(':');
            if (colon >= 0)
            {
                spec = field[(colon + 1)..];
                field = field[..colon];
            }
            char convert = '\0';
            int bang = field.IndexOf('!');
            if (bang >= 0)
            {
                convert = field.Length > bang + 1 ? field[bang + 1] : 's';
                field = field[..bang];
            }
            int split = field.IndexOfAny(['.', '[']);
            string head = split >= 0 ? field[..split] : field;
            object? value;
            if (head.Length == 0) value = Positional(arguments, auto++);
            else if (int.TryParse(head, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) value = Positional(arguments, index);
            else
            {
                var found = arguments.Keywords.FirstOrDefault(k => k.Key == head);
                if (found.Key is null) throw new ChatTemplateException($"KeyError: {PyFormat.Repr(head)}");
                value = found.Value;
            }
            if (split >= 0) value = Navigate(value, field[split..]);
            if (convert == 'r') value = PyFormat.Repr(value);
            else if (convert == 's') value = PyFormat.Str(value);
            sb.Append(spec.Length == 0 ? PyFormat.Str(value) : ApplySpec(value, spec, percentStyle: false));
        }
        return sb.ToString();
    }

    private static object? Positional(CallArguments arguments, int index) =>
        index < arguments.Positional.Count
            ? arguments.Positional[index]
            : throw new ChatTemplateException($"Replacement index {index} out of range for positional args tuple");

    private static object? Navigate(object? value, string path)
    {
        int i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                value = PyOps.GetAttribute(value, path[(i + 1)..end]);
                i = end;
            }
            else
            {
                int end = path.IndexOf(']', i);
                string key = path[(i + 1)..end];
                value = PyOps.GetItem(value, long.TryParse(key, out long n) ? n : key);
                i = end + 1;
            }
        }
        return value;
    }

    // A width or precision in a spec, which sizes the string made: checked before anything that long is built.
    private static int SpecNumber(string digits, string what)
    {
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)) value = long.MaxValue;
        TemplateLimits.CheckLength(value, what);
        return (int)value;
    }

    // A format spec: [[fill]align][sign][#][0][width][,][.precision][type] (format()) or %-style flags.
    private static string ApplySpec(object? value, string spec, bool percentStyle)
    {
        char fill = ' ', align = '\0', sign = '-';
        bool zero = false;
        int i = 0;
        if (percentStyle)
        {
            while (i < spec.Length && "-+ #0".Contains(spec[i]))
            {
                if (spec[i] == '-') align = '<';
                else if (spec[i] == '0') zero = true;
                else if (spec[i] is '+' or ' ') sign = spec[i];
                i++;
            }
        }
        else
        {
            if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=')
            {
                fill = spec[0];
                align = spec[1];
                i = 2;
            }
            else if (spec.Length >= 1 && spec[0] is '<' or '>' or '^' or '=')
            {
                align = spec[0];
                i = 1;
            }
            if (i < spec.Length && spec[i] is '+' or '-' or ' ') sign = spec[i++];
            if (i < spec.Length && spec[i] == '#') i++;
            if (i < spec.Length && spec[i] == '0') zero = true;
        }
        int widthStart = i;
        while (i < spec.Length && char.IsDigit(spec[i])) i++;
        int width = i > widthStart ? SpecNumber(spec[widthStart..i], "a format width") : 0;
        bool thousands = i < spec.Length && spec[i] == ',';
        if (thousands) i++;
        int precision = -1;
        if (i < spec.Length && spec[i] == '.')
        {
            int start = ++i;
            while (i < spec.Length && char.IsDigit(spec[i])) i++;
            precision = SpecNumber(spec[start..i], "a format precision");
        }
        char type = i < spec.Length ? spec[i] : '\0';

        string body;
        bool numeric = true;
        switch (type)
        {
            case 'd' or 'i' or 'u':
                body = AsInteger(value).ToString(thousands ? "#,0" : "0", CultureInfo.InvariantCulture);
                break;
            case 'f' or 'F':
                string decimals = new('0', precision < 0 ? 6 : precision);
                body = AsFloat(value).ToString((thousands ? "#,0." : "0.") + decimals, CultureInfo.InvariantCulture).TrimEnd('.');
                break;
            case 'e' or 'E':
                string mantissa = "0." + new string('0', precision < 0 ? 6 : precision);
                body = AsFloat(value).ToString(mantissa + (type == 'e' ? "e+00" : "E+00"), CultureInfo.InvariantCulture);
                break;
            case 'g' or 'G':
                body = AsFloat(value).ToString("G" + (precision < 0 ? 6 : Math.Max(precision, 1)), CultureInfo.InvariantCulture);
                break;
            case 'x' or 'X' or 'o':
                long n = AsInteger(value);
                body = type == 'o' ? Convert.ToString(n, 8) : n.ToString(type == 'x' ? "x" : "X", CultureInfo.InvariantCulture);
                break;
            case '%' when !percentStyle:
                body = (AsFloat(value) * 100).ToString("0." + new string('0', precision < 0 ? 6 : precision), CultureInfo.InvariantCulture) + "%";
                break;
            case 'c':
                numeric = false;
                body = value is string cs ? cs : Character(AsInteger(value));
                break;
            case 'r' or 'a':
                numeric = false;
                body = PyFormat.Repr(value);
                break;
            default:
                numeric = !percentStyle && type == '\0' && PyOps.IsNumber(value) && value is not bool;
                body = PyFormat.Str(value);
                if (precision >= 0 && !numeric) body = body[..Math.Min(precision, body.Length)];
                break;
        }
        if (numeric && sign is '+' or ' ' && !body.StartsWith('-')) body = sign + body;
        if (body.Length >= width) return body;
        if (zero && numeric && align == '\0')
        {
            int signLength = body.Length > 0 && body[0] is '-' or '+' or ' ' ? 1 : 0;
            return body[..signLength] + new string('0', width - body.Length) + body[signLength..];
        }
        if (align == '\0') align = numeric ? '>' : '<';
        int pad = width - body.Length;
        return align switch
        {
            '<' => body + new string(fill, pad),
            '^' => new string(fill, pad / 2) + body + new string(fill, pad - pad / 2),
            _ => new string(fill, pad) + body,
        };
    }

    private static long AsInteger(object? value) => value switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => (long)Math.Truncate(d),
        _ => throw new ChatTemplateException($"%d format: a real number is required, not {PyOps.TypeName(value)}"),
    };

    private static double AsFloat(object? value) =>
        PyOps.IsNumber(value) ? PyOps.AsDouble(value) : throw new ChatTemplateException($"must be real number, not {PyOps.TypeName(value)}");

    /// <summary>Python's %c of an integer: any code point below 0x110000, a lone surrogate included.</summary>
    private static string Character(long code)
    {
        if (code is < 0 or > 0x10FFFF) throw new ChatTemplateException("%c arg not in range(0x110000)");
        return code is >= 0xD800 and <= 0xDFFF ? ((char)code).ToString() : char.ConvertFromUtf32((int)code);
    }
}
