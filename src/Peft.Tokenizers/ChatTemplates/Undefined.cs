namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// jinja2's plain <c>Undefined</c>: prints as "", is falsy, iterates as empty and has length 0, but reading an
/// attribute or item of it, calling it or doing arithmetic with it fails with the message it carries.
/// </summary>
internal sealed class Undefined(string message)
{
    /// <summary>What went missing, as jinja2 says it ("'x' is undefined", "'dict object' has no attribute 'y'").</summary>
    public string Message { get; } = message;

    public static Undefined ForName(string name) => new($"'{name}' is undefined");

    public static Undefined ForAttribute(object? target, object? name) =>
        name is string s
            ? new($"{PyOps.ObjectTypeRepr(target)} has no attribute '{s}'")
            : new($"{PyOps.ObjectTypeRepr(target)} has no element {PyFormat.Repr(name)}");

    public ChatTemplateException Fail() => new(Message);
}
