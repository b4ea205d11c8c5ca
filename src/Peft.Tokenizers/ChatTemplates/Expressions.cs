namespace Peft.Tokenizers.ChatTemplates;

// The expression syntax tree the parser builds and the renderer evaluates. Line numbers are kept for error messages.

internal abstract record Expr(int Line);

internal sealed record ConstantExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line) : Expr(Line);

internal sealed record AttributeExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record ItemExpr(Expr Target, Expr Key, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

/// <summary>Positional and keyword arguments of a call, filter or test, with optional <c>*args</c>/<c>**kwargs</c>.</summary>
internal sealed record Arguments(
    IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Keywords, Expr? DynamicPositional, Expr? DynamicKeywords)
{
    public static readonly Arguments None = new([], [], null, null);
}

internal sealed record CallExpr(Expr Target, Arguments Arguments, int Line) : Expr(Line);

/// <summary><c>value | name(args)</c>; <see cref="Value"/> is null inside a filter block, where the body is the value.</summary>
internal sealed record FilterExpr(Expr? Value, string Name, Arguments Arguments, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Value, string Name, Arguments Arguments, bool Negated, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Operator, Expr Operand, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Operator, Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Operator, Expr Operand)> Rest, int Line) : Expr(Line);

internal sealed record ConditionalExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);
