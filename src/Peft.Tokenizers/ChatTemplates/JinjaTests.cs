namespace Peft.Tokenizers.ChatTemplates;

/// <summary>jinja2's built-in tests (<c>x is defined</c>, <c>x is string</c>, <c>x is divisibleby 3</c>, ...).</summary>
internal static class JinjaTests
{
    private static readonly HashSet<string> Names =
    [
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string", "mapping", "iterable",
        "sequence", "callable", "lower", "upper", "escaped", "odd", "even", "divisibleby", "equalto", "eq", "==", "ne", "!=",
        "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "filter", "test",
    ];

    public static bool Exists(string name) => Names.Contains(name);

    public static bool Run(string name, object? value, CallArguments args)
    {
        object? Other() => args.Positional.Count > 0 ? args.Positional[0]
            : args.Keywords.Count > 0 ? args.Keywords[0].Value
            : throw new ChatTemplateException($"test '{name}' needs an argument");
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "boolean" => value is bool,
            "false" => value is false,
            "true" => value is true,
            "integer" => value is long,
            "float" => value is double,
            "number" => value is long or double or bool,
            "string" => value is string,
            "mapping" => value is PyDict,
            "iterable" => PyOps.IsIterable(value),
            // Undefined has __len__, __getitem__ and __call__ (they fail when used), so Python counts it as both.
            "sequence" => value is string or List<object?> or PyTuple or PyDict or PyRange or Undefined,
            "callable" => value is ICallable or Undefined,
            "lower" => PyFormat.Str(value) is var s && s.Any(char.IsLower) && !s.Any(char.IsUpper),
            "upper" => PyFormat.Str(value) is var u && u.Any(char.IsUpper) && !u.Any(char.IsLower),
            "escaped" => false,
            "odd" => PyOps.Equal(PyOps.Modulo(value, 2L), 1L),
            "even" => PyOps.Equal(PyOps.Modulo(value, 2L), 0L),
            "divisibleby" => PyOps.Equal(PyOps.Modulo(value, Other()), 0L),
            "equalto" or "eq" or "==" => PyOps.Equal(value, Other()),
            "ne" or "!=" => !PyOps.Equal(value, Other()),
            "lt" or "lessthan" or "<" => PyOps.Compare(value, Other(), "<") < 0,
            "le" or "<=" => PyOps.Compare(value, Other(), "<=") <= 0,
            "gt" or "greaterthan" or ">" => PyOps.Compare(value, Other(), ">") > 0,
            "ge" or ">=" => PyOps.Compare(value, Other(), ">=") >= 0,
            "in" => PyOps.Contains(Other(), value),
            "sameas" => SameAs(value, Other()),
            "filter" => value is string f && Filters.Exists(f),
            "test" => value is string t && Exists(t),
            _ => throw new ChatTemplateException($"No test named '{name}'."),
        };
    }

    // Python "is": None, booleans and small ints are singletons; other values only when they are the same object.
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        _ => ReferenceEquals(a, b),
    };
}
