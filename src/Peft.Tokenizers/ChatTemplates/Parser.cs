namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Builds the syntax tree from tokens with jinja2's grammar and operator precedence (condition, or, and, not,
/// comparisons, + -, ~, * / // %, **, unary minus, then postfix access, filters, tests and calls).
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private readonly List<Token> _tokens;
    private readonly Stack<(string Tag, string[] EndTags)> _openTags = new();
    private readonly Stack<HashSet<string>> _macroNames = new();
    private int _index;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = parser.ParseBody(null);
        return body;
    }

    private Token Current => _tokens[_index];

    private Token Peek(int offset = 1) => _tokens[Math.Min(_index + offset, _tokens.Count - 1)];

    private Token Next() => _tokens[_index < _tokens.Count - 1 ? _index++ : _index];

    private bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _index++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _index++;
        return true;
    }

    private Token Expect(TokenKind kind, string? text = null)
    {
        var token = Current;
        if (token.Kind != kind || (text is not null && token.Text != text))
        {
            string wanted = text is not null ? $"'{text}'" : kind switch
            {
                TokenKind.Name => "'name'",
                TokenKind.BlockEnd => "'end of statement block'",
                TokenKind.VariableEnd => "'end of print statement'",
                _ => $"'{kind}'",
            };
            throw Fail($"expected token {wanted}, got {token}", token);
        }
        return Next();
    }

    private static ChatTemplateSyntaxException Fail(string message, Token at) => new(message, at.Line, at.Column);

    // Statements until a block tag whose name is one of endTags (left unconsumed: Current is that name).
    private List<Stmt> ParseBody(string[]? endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Data:
                    body.Add(new TextStmt((string)token.Value!, token.Line));
                    Next();
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    body.Add(new OutputStmt(ParseTuple(), token.Line));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    Next();
                    if (endTags is not null && Current.Kind == TokenKind.Name && endTags.Contains(Current.Text)) return body;
                    body.Add(ParseStatement());
                    Expect(TokenKind.BlockEnd);
                    break;
                case TokenKind.End:
                    if (endTags is null) return body;
                    throw Fail($"Unexpected end of template.{LookingFor()}", token);
                default:
                    throw Fail($"unexpected {token}", token);
            }
        }
    }

    // Body up to an end tag, consuming "{% endtag %}" except its closing "%}" (the caller's ParseBody expects that).
    private List<Stmt> ParseBodyUntil(string tag, params string[] endTags)
    {
        _openTags.Push((tag, endTags));
        var body = ParseBody(endTags);
        _openTags.Pop();
        return body;
    }

    // jinja2's hint naming the end tags the innermost open block waits for.
    private string LookingFor()
    {
        if (_openTags.Count == 0) return "";
        var (tag, endTags) = _openTags.Peek();
        string looking = string.Join(" or ", endTags.Select(t => $"'{t}'"));
        return $" Jinja was looking for the following tags: {looking}. The innermost block that needs to be closed is '{tag}'.";
    }

    private Stmt ParseStatement()
    {
        var token = Current;
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw Fail("blocks nested too deeply", token);
        if (token.Kind != TokenKind.Name) throw Fail("tag name expected", token);
        switch (token.Text)
        {
            case "for": return ParseFor();
            case "if": return ParseIf();
            case "set": return ParseSet();
            case "macro": return ParseMacro();
            case "call": return ParseCallBlock();
            case "filter": return ParseFilterBlock();
            case "with": return ParseWith();
            case "print":
                Next();
                return new OutputStmt(ParseTuple(), token.Line);
            case "generation":
            {
                Next();
                Expect(TokenKind.BlockEnd);
                var body = ParseBodyUntil("generation", "endgeneration");
                Next();
                return new BlockStmt(body, token.Line);
            }
            case "break":
                Next();
                return new BreakStmt(token.Line);
            case "continue":
                Next();
                return new ContinueStmt(token.Line);
            case "extends" or "include" or "import" or "from" or "block" or "autoescape":
                throw Fail($"the '{token.Text}' tag is not supported in chat templates", token);
            default:
                throw Fail($"Encountered unknown tag '{token.Text}'.{LookingFor()}", token);
        }
    }

    private ForStmt ParseFor()
    {
        int line = Next().Line;
        var target = ParseAssignTarget(withNamespace: false, extraEnd: "in");
        Expect(TokenKind.Name, "in");
        var iterable = ParseTuple(withCondition: false, extraEnd: "recursive");
        Expr? filter = SkipName("if") ? ParseExpression() : null;
        bool recursive = SkipName("recursive");
        Expect(TokenKind.BlockEnd);
        var body = ParseBodyUntil("for", "endfor", "else");
        List<Stmt> elseBody = [];
        if (Next().Text == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = ParseBodyUntil("for", "endfor");
            Next();
        }
        return new ForStmt(target, iterable, filter, body, elseBody, recursive, line);
    }

    private IfStmt ParseIf()
    {
        int line = Next().Line;
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        List<Stmt> elseBody = [];
        while (true)
        {
            var test = ParseTuple(withCondition: false);
            Expect(TokenKind.BlockEnd);
            var body = ParseBodyUntil("if", "elif", "else", "endif");
            branches.Add((test, body));
            string tag = Next().Text;
            if (tag == "elif") continue;
            if (tag == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = ParseBodyUntil("if", "endif");
                Next();
            }
            break;
        }
        return new IfStmt(branches, elseBody, line);
    }

    private Stmt ParseSet()
    {
        int line = Next().Line;
        var target = ParseAssignTarget(withNamespace: true);
        if (SkipOperator("=")) return new SetStmt(target, ParseTuple(), line);
        Expr? filter = Current.IsOperator("|") ? ParseFilters(null) : null;
        Expect(TokenKind.BlockEnd);
        var body = ParseBodyUntil("set", "endset");
        Next();
        return new SetBlockStmt(target, filter, body, line);
    }

    private MacroStmt ParseMacro()
    {
        int line = Next().Line;
        string name = Expect(TokenKind.Name).Text;
        var parameters = ParseSignature();
        Expect(TokenKind.BlockEnd);
        var (body, signature) = ParseMacroBody(name, parameters, "macro", "endmacro");
        return new MacroStmt(signature, body, line);
    }

    // The body of a macro or call block, noting which of varargs, kwargs and caller it names.
    private (List<Stmt> Body, MacroSignature Signature) ParseMacroBody(string name, List<MacroParameter> parameters, string tag, string endTag)
    {
        var names = new HashSet<string>();
        _macroNames.Push(names);
        var body = ParseBodyUntil(tag, endTag);
        _macroNames.Pop();
        Next();
        return (body, new MacroSignature(name, parameters, names.Contains("varargs"), names.Contains("kwargs"), names.Contains("caller")));
    }

    private List<MacroParameter> ParseSignature()
    {
        var parameters = new List<MacroParameter>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            var nameToken = Expect(TokenKind.Name);
            Expr? defaultValue = null;
            if (SkipOperator("=")) defaultValue = ParseExpression();
            else if (parameters.Any(p => p.Default is not null)) throw Fail("non-default argument follows default argument", nameToken);
            parameters.Add(new MacroParameter(nameToken.Text, defaultValue));
        }
        Expect(TokenKind.Operator, ")");
        return parameters;
    }

    private CallBlockStmt ParseCallBlock()
    {
        var token = Next();
        var parameters = Current.IsOperator("(") ? ParseSignature() : [];
        if (ParseExpression() is not CallExpr call) throw Fail("expected call", token);
        Expect(TokenKind.BlockEnd);
        var (body, caller) = ParseMacroBody("caller", parameters, "call", "endcall");
        return new CallBlockStmt(call, caller, body, token.Line);
    }

    private FilterBlockStmt ParseFilterBlock()
    {
        int line = Next().Line;
        var filter = ParseFilters(null, startInline: true);
        Expect(TokenKind.BlockEnd);
        var body = ParseBodyUntil("filter", "endfilter");
        Next();
        return new FilterBlockStmt(filter, body, line);
    }

    private WithStmt ParseWith()
    {
        int line = Next().Line;
        var assignments = new List<(Expr, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0) Expect(TokenKind.Operator, ",");
            var target = ParseAssignTarget(withNamespace: false);
            Expect(TokenKind.Operator, "=");
            assignments.Add((target, ParseExpression()));
        }
        Expect(TokenKind.BlockEnd);
        var body = ParseBodyUntil("with", "endwith");
        Next();
        return new WithStmt(assignments, body, line);
    }

    private Expr ParseAssignTarget(bool withNamespace, string? extraEnd = null)
    {
        var token = Current;
        if (withNamespace && token.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            Next();
            Next();
            var attribute = Expect(TokenKind.Name);
            return new AttributeExpr(new NameExpr(token.Text, token.Line), attribute.Text, token.Line);
        }
        var target = ParseTuple(simplified: true, extraEnd: extraEnd);
        if (!IsAssignable(target)) throw Fail($"can't assign to {target.GetType().Name.Replace("Expr", "").ToLowerInvariant()}", token);
        return target;
    }

    private static bool IsAssignable(Expr target) =>
        target is NameExpr || (target is TupleExpr tuple && tuple.Items.All(IsAssignable));

    private bool IsTupleEnd(string? extraEnd) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd ||
        Current.IsOperator(")") ||
        (extraEnd is not null && Current.IsName(extraEnd));

    private Expr ParseTuple(bool simplified = false, bool withCondition = true, string? extraEnd = null, bool explicitParentheses = false)
    {
        int line = Current.Line;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(simplified ? ParsePrimary() : withCondition ? ParseExpression() : ParseOr());
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParentheses) throw Fail($"Expected an expression, got {Current}", Current);
        }
        return new TupleExpr(items, line);
    }

    private Expr ParseExpression() => ParseConditional();

    private Expr ParseConditional()
    {
        int line = Current.Line;
        var expr = ParseOr();
        while (SkipName("if"))
        {
            var test = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseConditional() : null;
            expr = new ConditionalExpr(test, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            int line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            int line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            int line = Next().Line;
            return new UnaryExpr("not", ParseNot(), line);
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOperators.Contains(Current.Text))
            {
                string op = Next().Text;
                rest.Add((op, ParseMath1()));
            }
            else if (SkipName("in")) rest.Add(("in", ParseMath1()));
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                Next();
                Next();
                rest.Add(("not in", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParseConcat(), op.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var op = Next();
            left = new BinaryExpr("~", left, ParseMath2(), op.Line);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParsePow(), op.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary();
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(), op.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        var token = Current;
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw Fail("expression nested too deeply", token);
        Expr node;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            Next();
            node = new UnaryExpr(token.Text, ParseUnary(false), token.Line);
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpression(node) : node;
    }

    private Expr ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                Next();
                return token.Text switch
                {
                    "true" or "True" => new ConstantExpr(true, token.Line),
                    "false" or "False" => new ConstantExpr(false, token.Line),
                    "none" or "None" => new ConstantExpr(null, token.Line),
                    _ => Name(token),
                };
            case TokenKind.String:
            {
                Next();
                string text = (string)token.Value!;
                while (Current.Kind == TokenKind.String) text += (string)Next().Value!;
                return new ConstantExpr(text, token.Line);
            }
            case TokenKind.Integer or TokenKind.Float:
                Next();
                return new ConstantExpr(token.Value, token.Line);
            case TokenKind.Operator when token.Text == "(":
            {
                Next();
                var inner = ParseTuple(explicitParentheses: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            }
            case TokenKind.Operator when token.Text == "[":
            {
                Next();
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression());
                }
                Expect(TokenKind.Operator, "]");
                return new ListExpr(items, token.Line);
            }
            case TokenKind.Operator when token.Text == "{":
            {
                Next();
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOperator("}")) break;
                    var key = ParseExpression();
                    Expect(TokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression()));
                }
                Expect(TokenKind.Operator, "}");
                return new DictExpr(pairs, token.Line);
            }
            default:
                throw Fail($"unexpected {token}", token);
        }
    }

    private NameExpr Name(Token token)
    {
        foreach (var names in _macroNames) names.Add(token.Text);
        return new NameExpr(token.Text, token.Line);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator(".") || Current.IsOperator("[")) node = ParseSubscript(node);
            else if (Current.IsOperator("(")) node = new CallExpr(node, ParseCallArguments(), Current.Line);
            else return node;
        }
    }

    private Expr ParseFilterExpression(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|")) node = ParseFilters(node);
            else if (Current.IsName("is")) node = ParseTest(node);
            else if (Current.IsOperator("(")) node = new CallExpr(node, ParseCallArguments(), Current.Line);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        var token = Next();
        if (token.Text == ".")
        {
            var attribute = Next();
            if (attribute.Kind == TokenKind.Name) return new AttributeExpr(node, attribute.Text, token.Line);
            if (attribute.Kind != TokenKind.Integer) throw Fail("expected name or number", attribute);
            return new ItemExpr(node, new ConstantExpr(attribute.Value, attribute.Line), token.Line);
        }
        var keys = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (keys.Count > 0) Expect(TokenKind.Operator, ",");
            keys.Add(ParseSubscribed());
        }
        Expect(TokenKind.Operator, "]");
        return new ItemExpr(node, keys.Count == 1 ? keys[0] : new TupleExpr(keys, token.Line), token.Line);
    }

    private Expr ParseSubscribed()
    {
        int line = Current.Line;
        Expr? start = null;
        if (!SkipOperator(":"))
        {
            var node = ParseExpression();
            if (!SkipOperator(":")) return node;
            start = node;
        }
        Expr? stop = null, step = null;
        if (!Current.IsOperator(":") && !Current.IsOperator("]") && !Current.IsOperator(",")) stop = ParseExpression();
        if (SkipOperator(":") && !Current.IsOperator("]") && !Current.IsOperator(",")) step = ParseExpression();
        return new SliceExpr(start, stop, step, line);
    }

    private Arguments ParseCallArguments()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        Expr? dynamicPositional = null, dynamicKeywords = null;
        bool requireComma = false;
        while (!Current.IsOperator(")"))
        {
            if (requireComma)
            {
                Expect(TokenKind.Operator, ",");
                if (Current.IsOperator(")")) break;
            }
            if (SkipOperator("*")) dynamicPositional = ParseExpression();
            else if (SkipOperator("**")) dynamicKeywords = ParseExpression();
            else if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                string name = Next().Text;
                Next();
                keywords.Add((name, ParseExpression()));
            }
            else positional.Add(ParseExpression());
            requireComma = true;
        }
        Expect(TokenKind.Operator, ")");
        return new Arguments(positional, keywords, dynamicPositional, dynamicKeywords);
    }

    private Expr ParseFilters(Expr? node, bool startInline = false)
    {
        while (Current.IsOperator("|") || startInline)
        {
            if (!startInline) Next();
            var token = Expect(TokenKind.Name);
            string name = token.Text;
            while (SkipOperator(".")) name += "." + Expect(TokenKind.Name).Text;
            var arguments = Current.IsOperator("(") ? ParseCallArguments() : Arguments.None;
            node = new FilterExpr(node, name, arguments, token.Line);
            startInline = false;
        }
        return node!;
    }

    private Expr ParseTest(Expr node)
    {
        var token = Next();
        bool negated = SkipName("not");
        var nameToken = Expect(TokenKind.Name);
        string name = nameToken.Text;
        while (SkipOperator(".")) name += "." + Expect(TokenKind.Name).Text;
        var arguments = Arguments.None;
        if (Current.IsOperator("(")) arguments = ParseCallArguments();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float ||
                  Current.IsOperator("[") || Current.IsOperator("{")) &&
                 !(Current.IsName("else") || Current.IsName("or") || Current.IsName("and")))
        {
            if (Current.IsName("is")) throw Fail("You cannot chain multiple tests with is", Current);
            var argument = ParsePostfix(ParsePrimary());
            arguments = new Arguments([argument], [], null, null);
        }
        return new TestExpr(node, name, arguments, negated, token.Line);
    }
}
