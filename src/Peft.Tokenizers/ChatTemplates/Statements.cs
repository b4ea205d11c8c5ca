namespace Peft.Tokenizers.ChatTemplates;

// The statement syntax tree: what a template does, in order.

internal abstract record Stmt(int Line);

internal sealed record TextStmt(string Text, int Line) : Stmt(Line);

internal sealed record OutputStmt(Expr Value, int Line) : Stmt(Line);

internal sealed record ForStmt(
    Expr Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt> Else, bool Recursive, int Line) : Stmt(Line);

internal sealed record IfStmt(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt> Else, int Line) : Stmt(Line);

/// <summary><c>set target = value</c>; the target is a name, a tuple of names or <c>namespace.attribute</c>.</summary>
internal sealed record SetStmt(Expr Target, Expr Value, int Line) : Stmt(Line);

/// <summary><c>{% set name %}body{% endset %}</c>, optionally through filters (a chain whose innermost value is null).</summary>
internal sealed record SetBlockStmt(Expr Target, Expr? Filter, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record MacroParameter(string Name, Expr? Default);

internal sealed record MacroStmt(string Name, IReadOnlyList<MacroParameter> Parameters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record CallBlockStmt(CallExpr Call, IReadOnlyList<MacroParameter> CallerParameters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record FilterBlockStmt(Expr Filter, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record WithStmt(IReadOnlyList<(Expr Target, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary><c>{% generation %}</c> (transformers' AssistantTracker) and other bodies rendered unchanged.</summary>
internal sealed record BlockStmt(IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);
