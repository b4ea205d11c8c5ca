namespace Peft.Tokenizers.ChatTemplates;

/// <summary>What a lexed piece of template source is.</summary>
internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexed piece of template source: its kind, its text (or decoded value) and where it starts.</summary>
internal sealed record Token(TokenKind Kind, string Text, object? Value, int Line, int Column)
{
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    // jinja2's describe_token, quoted as its messages show it.
    public override string ToString() => Kind switch
    {
        TokenKind.End => "'end of template'",
        TokenKind.Data => "'template data / text'",
        TokenKind.BlockBegin => "'begin of statement block'",
        TokenKind.BlockEnd => "'end of statement block'",
        TokenKind.VariableBegin => "'begin of print statement'",
        TokenKind.VariableEnd => "'end of print statement'",
        _ => $"'{Text}'",
    };
}
