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
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public override string ToString() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.Data => "template data",
        _ => $"'{Text}'",
    };
}
