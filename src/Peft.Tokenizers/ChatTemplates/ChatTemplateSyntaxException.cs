namespace Peft.Tokenizers.ChatTemplates;

/// <summary>A chat template's source is not valid Jinja; the message names the 1-based line and column.</summary>
public sealed class ChatTemplateSyntaxException : FormatException
{
    /// <summary>Creates the exception for a problem at <paramref name="line"/>, <paramref name="column"/>.</summary>
    public ChatTemplateSyntaxException(string message, int line, int column)
        : base($"{message} (line {line}, column {column})")
    {
        Line = line;
        Column = column;
    }

    /// <summary>The 1-based line of the offending token.</summary>
    public int Line { get; }

    /// <summary>The 1-based column of the offending token.</summary>
    public int Column { get; }
}
