namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// A chat template failed while rendering: either the template called <c>raise_exception(message)</c> (then
/// <see cref="Exception.Message"/> is exactly that message and <see cref="RaisedByTemplate"/> is true), or the
/// template did something Python's jinja2 refuses (reading an attribute of an undefined value, adding a string to a
/// dict, ...), with a message in the spirit of Python's.
/// </summary>
public class ChatTemplateException : Exception
{
    /// <summary>Creates the exception for a runtime failure.</summary>
    public ChatTemplateException(string message) : base(message) { }

    /// <summary>Creates the exception for a runtime failure with its cause.</summary>
    public ChatTemplateException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception, saying whether the template raised it itself.</summary>
    public ChatTemplateException(string message, bool raisedByTemplate) : base(message) => RaisedByTemplate = raisedByTemplate;

    /// <summary>True when the template called <c>raise_exception</c>; false for errors of the renderer's Python semantics.</summary>
    public bool RaisedByTemplate { get; }
}
