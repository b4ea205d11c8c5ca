using System.Runtime.CompilerServices;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Walks the syntax tree, writing output and evaluating expressions with Python semantics.</summary>
internal sealed class Renderer
{
    private enum Flow { Normal, Break, Continue }

    // Python stops a recursive jinja2 macro somewhere between 150 and 200 levels (its recursion limit is 1000 frames).
    private const int MaxDepth = 200;
    private int _depth;
    private long _steps;

    public static string Render(IReadOnlyList<Stmt> template, Dictionary<string, object?> globals)
    {
        var renderer = new Renderer();
        var output = new StringBuilder();
        var root = new Scope(new Scope(globals));
        try
        {
            renderer.Execute(template, root, output);
        }
        catch (OverflowException e)
        {
            // Python's ints have no limit; these are 64-bit, so say so rather than wrap around.
            throw new ChatTemplateException("integer result does not fit in 64 bits: " + e.Message, e);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or IndexOutOfRangeException or FormatException or KeyNotFoundException)
        {
            // Keep the promise that rendering fails only with ChatTemplateException, whatever value reached a built-in.
            throw new ChatTemplateException(e.Message, e);
        }
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (var statement in body)
        {
            var flow = Execute(statement, scope, output);
            if (output.Length > TemplateLimits.MaxLength) TemplateLimits.CheckLength(output.Length, "the rendered text");
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Execute(Stmt statement, Scope scope, StringBuilder output)
    {
        Step();
        switch (statement)
        {
            case TextStmt text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputStmt print:
                output.Append(PyFormat.Str(Evaluate(print.Value, scope)));
                return Flow.Normal;
            case IfStmt ifStatement:
                foreach (var (test, branch) in ifStatement.Branches)
                {
                    if (PyOps.Truthy(Evaluate(test, scope))) return Execute(branch, scope, output);
                }
                return Execute(ifStatement.Else, scope, output);
            case ForStmt loop:
                ExecuteFor(loop, Evaluate(loop.Iterable, scope), scope, output, 0);
                return Flow.Normal;
            case SetStmt set:
                Assign(set.Target, Evaluate(set.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt setBlock:
            {
                var captured = new StringBuilder();
                Execute(setBlock.Body, scope, captured);
                object? value = captured.ToString();
                if (setBlock.Filter is not null) value = ApplyFilterChain(setBlock.Filter, value, scope);
                Assign(setBlock.Target, value, scope);
                return Flow.Normal;
            }
            case MacroStmt macro:
                scope.Set(macro.Signature.Name, DefineMacro(macro.Signature, macro.Body, scope));
                return Flow.Normal;
            case CallBlockStmt callBlock:
            {
                var caller = DefineMacro(callBlock.Caller, callBlock.Body, scope);
                var call = callBlock.Call;
                var target = Evaluate(call.Target, scope);
                var arguments = EvaluateArguments(call.Arguments, scope);
                arguments.Keywords.Add(new("caller", caller));
                output.Append(PyFormat.Str(Invoke(target, arguments)));
                return Flow.Normal;
            }
            case FilterBlockStmt filterBlock:
            {
                var captured = new StringBuilder();
                Execute(filterBlock.Body, scope, captured);
                output.Append(PyFormat.Str(ApplyFilterChain(filterBlock.Filter, captured.ToString(), scope)));
                return Flow.Normal;
            }
            case WithStmt with:
            {
                var inner = new Scope(scope);
                foreach (var (target, value) in with.Assignments) Assign(target, Evaluate(value, scope), inner);
                Execute(with.Body, inner, output);
                return Flow.Normal;
            }
            case BlockStmt block:
                return Execute(block.Body, scope, output);
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"unknown statement {statement.GetType().Name}");
        }
    }

    private void ExecuteFor(ForStmt loop, object? iterable, Scope scope, StringBuilder output, int depth)
    {
        var items = PyOps.Iterate(iterable);
        if (loop.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Assign(loop.Target, item, probe);
                if (PyOps.Truthy(Evaluate(loop.Filter, probe))) kept.Add(item);
            }
            items = kept;
        }
        Func<object?, string>? recurse = null;
        if (loop.Recursive)
        {
            recurse = children =>
            {
                var inner = new StringBuilder();
                EnterNested();
                try { ExecuteFor(loop, children, scope, inner, depth + 1); }
                finally { _depth--; }
                return inner.ToString();
            };
        }
        var context = new LoopContext(items, depth, recurse);
        for (int i = 0; i < items.Count; i++)
        {
            Step();
            context.Index0 = i;
            // jinja2 gives each iteration fresh local variables: a "set" in the body does not carry to the next one.
            var iteration = new Scope(scope);
            Assign(loop.Target, items[i], iteration);
            iteration.Set("loop", context);
            if (Execute(loop.Body, iteration, output) == Flow.Break) break;
        }
        if (items.Count == 0) Execute(loop.Else, new Scope(scope), output);
    }

    // Counts statements run and loop iterations (an empty loop body runs none), so nested loops cannot run for hours.
    private void Step()
    {
        if (++_steps > TemplateLimits.MaxSteps)
            throw new ChatTemplateException($"the template ran more than {TemplateLimits.MaxSteps:N0} statements and loop iterations (a runaway template?).");
    }

    private void EnterNested()
    {
        if (++_depth > MaxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _depth = 0;
            throw new ChatTemplateException("maximum recursion depth exceeded");
        }
    }

    private Macro DefineMacro(MacroSignature signature, IReadOnlyList<Stmt> body, Scope definitionScope) =>
        new(signature.Name, signature.Parameters, arguments =>
        {
            EnterNested();
            try
            {
                string name = signature.Name;
                var parameters = signature.Parameters;
                var scope = new Scope(definitionScope);
                var extraPositional = new List<object?>();
                var extraKeywords = new PyDict();
                for (int i = 0; i < arguments.Positional.Count; i++)
                {
                    if (i < parameters.Count) scope.Set(parameters[i].Name, arguments.Positional[i]);
                    else extraPositional.Add(arguments.Positional[i]);
                }
                if (extraPositional.Count > 0 && !signature.CatchesVarargs)
                    throw new ChatTemplateException($"macro '{name}' takes not more than {parameters.Count} argument(s)");
                var given = new HashSet<string>(parameters.Take(arguments.Positional.Count).Select(p => p.Name));
                if (signature.CatchesCaller) scope.Set("caller", new Undefined("No caller defined"));
                foreach (var (key, value) in arguments.Keywords)
                {
                    if (key == "caller")
                    {
                        if (!signature.CatchesCaller)
                        {
                            throw new ChatTemplateException(
                                $"macro '{name}' was invoked with two values for the special caller argument. This is most likely a bug.");
                        }
                        scope.Set("caller", value);
                    }
                    else if (parameters.Any(p => p.Name == key) && given.Add(key)) scope.Set(key, value);
                    else if (signature.CatchesKwargs) extraKeywords.Set(key, value);
                    else throw new ChatTemplateException($"macro '{name}' takes no keyword argument '{key}'");
                }
                foreach (var parameter in parameters)
                {
                    if (given.Contains(parameter.Name)) continue;
                    scope.Set(parameter.Name, parameter.Default is null
                        ? new Undefined($"parameter '{parameter.Name}' was not provided")
                        : Evaluate(parameter.Default, scope));
                }
                scope.Set("varargs", new PyTuple(extraPositional));
                scope.Set("kwargs", extraKeywords);
                var output = new StringBuilder();
                Execute(body, scope, output);
                return output.ToString();
            }
            finally
            {
                _depth--;
            }
        });

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr name:
                scope.Set(name.Name, value);
                break;
            case TupleExpr tuple:
                var items = PyOps.Iterate(value);
                if (items.Count != tuple.Items.Count)
                {
                    throw new ChatTemplateException(items.Count > tuple.Items.Count
                        ? $"too many values to unpack (expected {tuple.Items.Count})"
                        : $"not enough values to unpack (expected {tuple.Items.Count}, got {items.Count})");
                }
                for (int i = 0; i < items.Count; i++) Assign(tuple.Items[i], items[i], scope);
                break;
            case AttributeExpr { Target: NameExpr owner } attribute:
                if (scope.Lookup(owner.Name) is not Namespace ns) throw new ChatTemplateException("cannot assign attribute on non-namespace object");
                ns.Attributes.Set(attribute.Name, value);
                break;
            default:
                throw new ChatTemplateException("cannot assign to this expression");
        }
    }

    // A filter chain parsed with a null innermost value (set blocks, filter blocks): apply it to the captured text.
    private object? ApplyFilterChain(Expr chain, object? value, Scope scope)
    {
        if (chain is not FilterExpr filter) return value;
        var inner = filter.Value is null ? value : ApplyFilterChain(filter.Value, value, scope);
        return Filters.Apply(filter.Name, inner, EvaluateArguments(filter.Arguments, scope));
    }

    private object? Evaluate(Expr expression, Scope scope)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw new ChatTemplateException("expression nested too deeply");
        switch (expression)
        {
            case ConstantExpr constant:
                return constant.Value;
            case NameExpr name:
                return scope.Lookup(name.Name);
            case ListExpr list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case TupleExpr tuple:
                return new PyTuple(tuple.Items.Select(item => Evaluate(item, scope)).ToList());
            case DictExpr dict:
            {
                var result = new PyDict();
                foreach (var (key, value) in dict.Pairs) result.Set(Evaluate(key, scope), Evaluate(value, scope));
                return result;
            }
            case AttributeExpr attribute:
                return PyOps.GetAttribute(Evaluate(attribute.Target, scope), attribute.Name);
            case ItemExpr { Key: SliceExpr slice } item:
                try
                {
                    return PyOps.Slice(Evaluate(item.Target, scope), EvaluateOptional(slice.Start, scope),
                        EvaluateOptional(slice.Stop, scope), EvaluateOptional(slice.Step, scope));
                }
                catch (ChatTemplateException) when (IsFoldable(item.Target) && IsFoldable(slice.Start) && IsFoldable(slice.Stop) && IsFoldable(slice.Step))
                {
                    // jinja2's compiler evaluates all-constant expressions through its getitem, which turns a failed
                    // slice of a literal into Undefined; at run time the same slice would raise.
                    return new Undefined("the constant slice could not be taken");
                }
            case ItemExpr item:
                return PyOps.GetItem(Evaluate(item.Target, scope), Evaluate(item.Key, scope));
            case CallExpr call:
                return Invoke(Evaluate(call.Target, scope), EvaluateArguments(call.Arguments, scope));
            case FilterExpr filter:
                return Filters.Apply(filter.Name, filter.Value is null ? null : Evaluate(filter.Value, scope), EvaluateArguments(filter.Arguments, scope));
            case TestExpr test:
            {
                bool result = JinjaTests.Run(test.Name, Evaluate(test.Value, scope), EvaluateArguments(test.Arguments, scope));
                return test.Negated ? !result : result;
            }
            case UnaryExpr unary:
            {
                var operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !PyOps.Truthy(operand),
                    "-" => PyOps.Negate(operand),
                    _ => PyOps.Plus(operand),
                };
            }
            case BinaryExpr binary:
                return EvaluateBinary(binary, scope);
            case CompareExpr compare:
                return EvaluateCompare(compare, scope);
            case ConditionalExpr conditional:
                if (PyOps.Truthy(Evaluate(conditional.Test, scope))) return Evaluate(conditional.Then, scope);
                return conditional.Else is null
                    ? new Undefined($"the inline if-expression on line {conditional.Line} evaluated to false and no else section was defined.")
                    : Evaluate(conditional.Else, scope);
            case SliceExpr:
                throw new ChatTemplateException("a slice is only valid inside []");
            default:
                throw new InvalidOperationException($"unknown expression {expression.GetType().Name}");
        }
    }

    // Whether jinja2's optimizer would evaluate the expression while compiling (literals and what is built from them).
    private static bool IsFoldable(Expr? expression) => expression switch
    {
        null or ConstantExpr => true,
        ListExpr list => list.Items.All(IsFoldable),
        TupleExpr tuple => tuple.Items.All(IsFoldable),
        DictExpr dict => dict.Pairs.All(p => IsFoldable(p.Key) && IsFoldable(p.Value)),
        UnaryExpr unary => IsFoldable(unary.Operand),
        BinaryExpr binary => IsFoldable(binary.Left) && IsFoldable(binary.Right),
        CompareExpr compare => IsFoldable(compare.First) && compare.Rest.All(r => IsFoldable(r.Operand)),
        ConditionalExpr conditional => IsFoldable(conditional.Test) && IsFoldable(conditional.Then) && IsFoldable(conditional.Else),
        ItemExpr item => IsFoldable(item.Target) && IsFoldable(item.Key),
        SliceExpr slice => IsFoldable(slice.Start) && IsFoldable(slice.Stop) && IsFoldable(slice.Step),
        _ => false,
    };

    private object? EvaluateOptional(Expr? expression, Scope scope) => expression is null ? null : Evaluate(expression, scope);

    private object? EvaluateBinary(BinaryExpr binary, Scope scope)
    {
        var left = Evaluate(binary.Left, scope);
        switch (binary.Operator)
        {
            case "and": return PyOps.Truthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or": return PyOps.Truthy(left) ? left : Evaluate(binary.Right, scope);
        }
        var right = Evaluate(binary.Right, scope);
        return binary.Operator switch
        {
            "+" => PyOps.Add(left, right),
            "-" => PyOps.Subtract(left, right),
            "*" => PyOps.Multiply(left, right),
            "/" => PyOps.Divide(left, right),
            "//" => PyOps.FloorDivide(left, right),
            "%" => PyOps.Modulo(left, right),
            "**" => PyOps.Power(left, right),
            "~" => PyFormat.Str(left) + PyFormat.Str(right),
            _ => throw new InvalidOperationException($"unknown operator {binary.Operator}"),
        };
    }

    private bool EvaluateCompare(CompareExpr compare, Scope scope)
    {
        var left = Evaluate(compare.First, scope);
        foreach (var (op, operand) in compare.Rest)
        {
            var right = Evaluate(operand, scope);
            bool result = op switch
            {
                "==" => PyOps.Equal(left, right),
                "!=" => !PyOps.Equal(left, right),
                "<" => PyOps.Compare(left, right, op) < 0,
                "<=" => PyOps.Compare(left, right, op) <= 0,
                ">" => PyOps.Compare(left, right, op) > 0,
                ">=" => PyOps.Compare(left, right, op) >= 0,
                "in" => PyOps.Contains(right, left),
                "not in" => !PyOps.Contains(right, left),
                _ => throw new InvalidOperationException($"unknown comparison {op}"),
            };
            if (!result) return false;
            left = right;
        }
        return true;
    }

    private CallArguments EvaluateArguments(Arguments arguments, Scope scope)
    {
        var positional = arguments.Positional.Select(a => Evaluate(a, scope)).ToList();
        if (arguments.DynamicPositional is not null) positional.AddRange(PyOps.Iterate(Evaluate(arguments.DynamicPositional, scope)));
        var keywords = arguments.Keywords.Select(k => new KeyValuePair<string, object?>(k.Name, Evaluate(k.Value, scope))).ToList();
        if (arguments.DynamicKeywords is not null)
        {
            if (Evaluate(arguments.DynamicKeywords, scope) is not PyDict extra) throw new ChatTemplateException("argument after ** must be a mapping");
            foreach (var (k, v) in extra.Items) keywords.Add(new(PyFormat.Str(k), v));
        }
        return new CallArguments(positional, keywords);
    }

    private static object? Invoke(object? target, CallArguments arguments) => target switch
    {
        ICallable callable => callable.Call(arguments),
        Undefined undefined => throw undefined.Fail(),
        _ => throw new ChatTemplateException($"'{PyOps.TypeName(target)}' object is not callable"),
    };
}
