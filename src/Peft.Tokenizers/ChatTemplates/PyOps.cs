using System.Runtime.CompilerServices;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Python's semantics for the values a template handles: truthiness, equality (1 == 1.0 == True), ordering,
/// arithmetic with int/float promotion and floor division, iteration (strings by code point, dicts by key),
/// and jinja2's attribute/item lookup, which falls back from one to the other and yields Undefined when both miss.
/// </summary>
internal static class PyOps
{
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        PyDict => "dict",
        PyTuple => "tuple",
        Undefined => "Undefined",
        Namespace => "Namespace",
        Macro => "Macro",
        LoopContext => "LoopContext",
        ICallable => "builtin_function_or_method",
        PyIterable iterable => iterable.TypeName,
        PyRange => "range",
        _ => value.GetType().Name,
    };

    /// <summary>jinja2's object_type_repr, quoted as its messages show it: 'dict object', 'None'.</summary>
    public static string ObjectTypeRepr(object? value) => value is null ? "'None'" : $"'{TypeName(value)} object'";

    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        PyDict dict => dict.Count > 0,
        PyTuple tuple => tuple.Items.Count > 0,
        PyIterable { IsView: true } view => view.Consume().Count > 0,
        PyRange range => range.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsNumber(object? value) => value is bool or long or double;

    private static bool IsInteger(object? value) => value is bool or long;

    private static long AsLong(object? value) => value switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        _ => throw new InvalidOperationException(),
    };

    public static double AsDouble(object? value) => value switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        _ => throw new InvalidOperationException(),
    };

    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
            return IsInteger(a) && IsInteger(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        switch (a)
        {
            case string sa: return b is string sb && sa == sb;
            case List<object?> la: return b is List<object?> lb && SequenceEqual(la, lb);
            case PyTuple ta: return b is PyTuple tb && SequenceEqual(ta.Items, tb.Items);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count) return false;
                foreach (var (k, v) in da.Items)
                {
                    if (!db.TryGetValue(k, out var other) || !Equal(v, other)) return false;
                }
                return true;
            case Undefined: return b is Undefined;
            case PyRange ra: return b is PyRange rb && SequenceEqual(ra.ToList(), rb.ToList());
            default: return ReferenceEquals(a, b);
        }
    }

    private static bool SequenceEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++) if (!Equal(a[i], b[i])) return false;
        return true;
    }

    public static int Hash(object? value)
    {
        switch (value)
        {
            case null: return 0;
            case bool b: return b ? 1 : 0;
            case long l: return l.GetHashCode();
            case double d: return d == Math.Floor(d) && Math.Abs(d) < 9e18 ? ((long)d).GetHashCode() : d.GetHashCode();
            case string s: return s.GetHashCode(StringComparison.Ordinal);
            case PyTuple t:
                var hash = new HashCode();
                foreach (var item in t.Items) hash.Add(Hash(item));
                return hash.ToHashCode();
            case Undefined: return 17;
            default: return RuntimeHelpers.GetHashCode(value);
        }
    }

    /// <summary>Python's &lt;, &lt;=, &gt;, &gt;= (numbers, strings by code point, sequences lexicographically).</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
            return IsInteger(a) && IsInteger(b) ? AsLong(a).CompareTo(AsLong(b)) : AsDouble(a).CompareTo(AsDouble(b));
        if (a is string sa && b is string sb) return PythonText.Compare(sa, sb);
        if ((a is List<object?> && b is List<object?>) || (a is PyTuple && b is PyTuple))
        {
            var la = AsSequence(a)!;
            var lb = AsSequence(b)!;
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!Equal(la[i], lb[i])) return Compare(la[i], lb[i], op);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw new ChatTemplateException($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static IReadOnlyList<object?>? AsSequence(object? value) => value switch
    {
        List<object?> list => list,
        PyTuple tuple => tuple.Items,
        _ => null,
    };

    /// <summary>Python iteration: lists and tuples by item, dicts by key, strings by code point, Undefined as empty.</summary>
    public static IReadOnlyList<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        PyTuple tuple => tuple.Items,
        PyDict dict => dict.Keys,
        string s => PythonText.CodePoints(s).Cast<object?>().ToList(),
        PyIterable iterable => iterable.Consume(),
        PyRange range => range.ToList(),
        Undefined => [],
        _ => throw new ChatTemplateException($"'{TypeName(value)}' object is not iterable"),
    };

    public static bool IsIterable(object? value) => value is List<object?> or PyTuple or PyDict or string or PyIterable or PyRange or Undefined;

    public static long Length(object? value) => value switch
    {
        string s => PythonText.Length(s),
        List<object?> list => list.Count,
        PyTuple tuple => tuple.Items.Count,
        PyDict dict => dict.Count,
        PyIterable { IsView: true } view => view.Consume().Count,
        PyRange range => range.Count,
        Undefined => 0,
        _ => throw new ChatTemplateException($"object of type '{TypeName(value)}' has no len()"),
    };

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is Undefined u) throw u.Fail();
                if (item is not string sub) throw new ChatTemplateException($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case PyDict dict: return PyDict.IsHashable(item) ? dict.ContainsKey(item) : throw new ChatTemplateException($"unhashable type: '{TypeName(item)}'");
            case Undefined: return false;
            case Namespace: throw new ChatTemplateException("argument of type 'Namespace' is not iterable");
            default:
                if (!IsIterable(container)) throw new ChatTemplateException($"argument of type '{TypeName(container)}' is not iterable");
                foreach (var element in Iterate(container)) if (Equal(element, item)) return true;
                return false;
        }
    }

    // ---- attribute and item access (jinja2's sandboxed getattr / getitem) ----

    /// <summary><c>obj.name</c>: a Python attribute (methods of str/dict/list) first, then the item, else Undefined.</summary>
    public static object? GetAttribute(object? target, string name)
    {
        if (target is Undefined undefined) throw undefined.Fail();
        if (TryGetPythonAttribute(target, name, out var value)) return value;
        if (target is PyDict dict && dict.TryGetValue(name, out var item)) return item;
        return Undefined.ForAttribute(target, name);
    }

    /// <summary><c>obj[key]</c>: the item first, then (for string keys) the attribute, else Undefined.</summary>
    public static object? GetItem(object? target, object? key)
    {
        if (target is Undefined undefined) throw undefined.Fail();
        if (TryGetItem(target, key, out var value)) return value;
        if (key is string name && TryGetPythonAttribute(target, name, out value)) return value;
        return Undefined.ForAttribute(target, key);
    }

    private static bool TryGetItem(object? target, object? key, out object? value)
    {
        value = null;
        switch (target)
        {
            case PyDict dict:
                return dict.TryGetValue(key, out value);
            case List<object?> or PyTuple or string when key is long or bool:
            {
                long index = AsLong(key);
                if (target is string s)
                {
                    var points = PythonText.CodePoints(s);
                    if (index < 0) index += points.Count;
                    if (index < 0 || index >= points.Count) return false;
                    value = points[(int)index];
                    return true;
                }
                var list = AsSequence(target)!;
                if (index < 0) index += list.Count;
                if (index < 0 || index >= list.Count) return false;
                value = list[(int)index];
                return true;
            }
            case PyRange range when key is long or bool:
            {
                long index = AsLong(key);
                if (index < 0) index += range.Count;
                if (index < 0 || index >= range.Count) return false;
                value = range[index];
                return true;
            }
            case Namespace ns when key is string name:
                return ns.Attributes.TryGetValue(name, out value);
            default:
                return false;
        }
    }

    private static bool TryGetPythonAttribute(object? target, string name, out object? value)
    {
        value = null;
        switch (target)
        {
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out value);
            case LoopContext loop:
                return loop.TryGetAttribute(name, out value);
            case PyTuple tuple when tuple.TryGetField(name, out value):
                return true;
            case string or PyDict or List<object?> or PyTuple or PyRange:
                if (name.StartsWith('_')) return false;
                value = PyMethods.Bind(target, name);
                return value is not null;
            default:
                return false;
        }
    }

    /// <summary><c>seq[start:stop:step]</c> on a list, tuple or string, with Python's clamping and negative steps.</summary>
    /// <remarks>
    /// jinja2 compiles slices to plain Python subscripts (they bypass its getitem), so what Python refuses fails here
    /// too, where a plain <c>obj[key]</c> would give Undefined.
    /// </remarks>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        switch (target)
        {
            case Undefined undefined: throw undefined.Fail();
            case PyDict: throw new ChatTemplateException("unhashable type: 'slice'");
            case not (string or List<object?> or PyTuple or PyRange): throw new ChatTemplateException($"'{TypeName(target)}' object is not subscriptable");
        }
        if (!IsSliceIndex(start) || !IsSliceIndex(stop) || !IsSliceIndex(step))
            throw new ChatTemplateException("slice indices must be integers or None or have an __index__ method");
        long stepValue = step is null ? 1 : AsLong(step);
        if (stepValue == 0) throw new ChatTemplateException("slice step cannot be zero");
        IReadOnlyList<object?> items = target switch
        {
            string s => PythonText.CodePoints(s).Cast<object?>().ToList(),
            List<object?> list => list,
            PyTuple tuple => tuple.Items,
            PyRange range => range.ToList(),
            _ => throw new InvalidOperationException(),
        };
        long length = items.Count;
        long begin, end;
        if (stepValue > 0)
        {
            begin = start is null ? 0 : Clamp(ToIndex(start), length, 0, length);
            end = stop is null ? length : Clamp(ToIndex(stop), length, 0, length);
        }
        else
        {
            begin = start is null ? length - 1 : Clamp(ToIndex(start), length, -1, length - 1);
            end = stop is null ? -1 : Clamp(ToIndex(stop), length, -1, length - 1);
        }
        if (target is PyRange r)
            return new PyRange(r.Start + begin * r.Step, r.Start + end * r.Step, r.Step * stepValue);
        var result = new List<object?>();
        if (stepValue > 0) for (long i = begin; i < end; i += stepValue) result.Add(items[(int)i]);
        else for (long i = begin; i > end; i += stepValue) result.Add(items[(int)i]);
        return target switch
        {
            string => string.Concat(result.Cast<string>()),
            PyTuple => new PyTuple(result),
            _ => result,
        };
    }

    private static long Clamp(long index, long length, long low, long high)
    {
        if (index < 0) index += length;
        return Math.Clamp(index, low, high);
    }

    private static bool IsSliceIndex(object? value) => value is null or long or bool;

    private static long ToIndex(object? value) => AsLong(value);

    // ---- arithmetic ----

    public static object? Add(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return IsInteger(a) && IsInteger(b) ? (object)checked(AsLong(a) + AsLong(b)) : AsDouble(a) + AsDouble(b);
        if (a is string sa)
            return b is string sb ? sa + sb : throw ConcatenateError("str", b);
        if (a is List<object?> la)
            return b is List<object?> lb ? la.Concat(lb).ToList() : throw ConcatenateError("list", b);
        if (a is PyTuple ta)
            return b is PyTuple tb ? new PyTuple([.. ta.Items, .. tb.Items]) : throw ConcatenateError("tuple", b);
        throw Unsupported("+", a, b);
    }

    public static object? Subtract(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return IsInteger(a) && IsInteger(b) ? (object)checked(AsLong(a) - AsLong(b)) : AsDouble(a) - AsDouble(b);
        throw Unsupported("-", a, b);
    }

    public static object? Multiply(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return IsInteger(a) && IsInteger(b) ? (object)checked(AsLong(a) * AsLong(b)) : AsDouble(a) * AsDouble(b);
        if (IsInteger(b) && a is string or List<object?> or PyTuple) return Repeat(a, AsLong(b));
        if (IsInteger(a) && b is string or List<object?> or PyTuple) return Repeat(b, AsLong(a));
        throw Unsupported("*", a, b);
    }

    private static object Repeat(object? sequence, long times)
    {
        TemplateLimits.CheckRepeat(sequence is string text ? text.Length : AsSequence(sequence)!.Count, times, "a repetition with '*'");
        if (sequence is string s)
        {
            var sb = new StringBuilder();
            for (long i = 0; i < times; i++) sb.Append(s);
            return sb.ToString();
        }
        var items = AsSequence(sequence)!;
        var result = new List<object?>();
        for (long i = 0; i < times; i++) result.AddRange(items);
        return sequence is PyTuple ? new PyTuple(result) : result;
    }

    public static object? Divide(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("/", a, b);
        double divisor = AsDouble(b);
        if (divisor == 0) throw new ChatTemplateException(IsInteger(a) && IsInteger(b) ? "division by zero" : "float division by zero");
        return AsDouble(a) / divisor;
    }

    public static object? FloorDivide(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("//", a, b);
        if (IsInteger(a) && IsInteger(b))
        {
            long x = AsLong(a), y = AsLong(b);
            if (y == 0) throw new ChatTemplateException("integer division or modulo by zero");
            long q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
            return q;
        }
        double divisor = AsDouble(b);
        if (divisor == 0) throw new ChatTemplateException("float floor division by zero");
        return Math.Floor(AsDouble(a) / divisor);
    }

    public static object? Modulo(object? a, object? b)
    {
        // str % value formats even an Undefined value (str.__mod__ runs before Undefined's __rmod__ could fail).
        if (a is string format) return PyStringFormat.Percent(format, b);
        FailIfUndefined(a, b);
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("%", a, b);
        if (IsInteger(a) && IsInteger(b))
        {
            long x = AsLong(a), y = AsLong(b);
            if (y == 0) throw new ChatTemplateException("integer division or modulo by zero");
            long r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return r;
        }
        double dy = AsDouble(b);
        if (dy == 0) throw new ChatTemplateException("float modulo");
        double m = AsDouble(a) % dy;
        if (m != 0 && ((m < 0) != (dy < 0))) m += dy;
        return m;
    }

    public static object? Power(object? a, object? b)
    {
        FailIfUndefined(a, b);
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("** or pow()", a, b);
        if (IsInteger(a) && IsInteger(b) && AsLong(b) >= 0)
        {
            // By squaring: a loop per unit of the exponent never ended for 1 ** 111111111113111111 (afl). Any base but
            // 0 and ±1 overflows long within 63 squarings (the render reports it).
            long result = 1, x = AsLong(a);
            for (long e = AsLong(b); e > 0; e >>= 1)
            {
                if ((e & 1) != 0) result = checked(result * x);
                if (e > 1) x = checked(x * x);
            }
            return result;
        }
        return Math.Pow(AsDouble(a), AsDouble(b));
    }

    public static object? Negate(object? a)
    {
        if (a is Undefined u) throw u.Fail();
        return a switch
        {
            bool or long => (object)(-AsLong(a)),
            double d => -d,
            _ => throw new ChatTemplateException($"bad operand type for unary -: '{TypeName(a)}'"),
        };
    }

    public static object? Plus(object? a)
    {
        if (a is Undefined u) throw u.Fail();
        return a switch
        {
            bool or long => (object)AsLong(a),
            double d => d,
            _ => throw new ChatTemplateException($"bad operand type for unary +: '{TypeName(a)}'"),
        };
    }

    private static void FailIfUndefined(object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
    }

    private static ChatTemplateException ConcatenateError(string type, object? other) =>
        new($"can only concatenate {type} (not \"{TypeName(other)}\") to {type}");

    private static ChatTemplateException Unsupported(string op, object? a, object? b) =>
        new($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
}
