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

/// <summary>
/// A macro's signature and body. jinja2 accepts extra positional or keyword arguments, or a <c>caller</c>, only when the
/// body mentions <c>varargs</c>, <c>kwargs</c> or <c>caller</c>; the parser records which it does.
/// </summary>
internal sealed record MacroSignature(string Name, IReadOnlyList<MacroParameter> Parameters, bool CatchesVarargs, bool CatchesKwargs, bool CatchesCaller);

internal sealed record MacroStmt(MacroSignature Signature, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record CallBlockStmt(CallExpr Call, MacroSignature Caller, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record FilterBlockStmt(Expr Filter, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record WithStmt(IReadOnlyList<(Expr Target, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary><c>{% generation %}</c> (transformers' AssistantTracker) and other bodies rendered unchanged.</summary>
internal sealed record BlockStmt(IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);
