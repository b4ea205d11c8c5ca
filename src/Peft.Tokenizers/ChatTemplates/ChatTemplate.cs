using System.Text.Json.Nodes;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// A parsed Hugging Face chat template (Jinja), rendered exactly as Python jinja2 renders it under transformers'
/// settings: <c>ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)</c> with loop controls,
/// <c>{% generation %}</c>, plain <c>Undefined</c>, no autoescaping, Python <c>str()</c>/<c>repr()</c> for output,
/// transformers' <c>tojson</c>, <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
/// <example>
/// <code>
/// var template = ChatTemplate.Parse(source);
/// string prompt = template.Render(new ChatTemplateContext { Messages = messages, AddGenerationPrompt = true });
/// </code>
/// </example>
public sealed class ChatTemplate
{
    private static readonly HashSet<string> ReservedNames = ["messages", "tools", "documents", "add_generation_prompt"];

    private readonly IReadOnlyList<Stmt> _body;

    private ChatTemplate(string source, IReadOnlyList<Stmt> body)
    {
        Source = source;
        _body = body;
    }

    /// <summary>The template text as given.</summary>
    public string Source { get; }

    /// <summary>
    /// The template for models without one (GPT-2 and other base models; transformers no longer has a default): each
    /// message as <c>role: content</c> and a newline (just <c>role:</c> when the content is missing or null; a list of
    /// content parts shows its text parts joined; another value shows as Python prints it), then, with
    /// <c>add_generation_prompt</c>, a final <c>assistant:</c> with nothing after it.
    /// </summary>
    public static ChatTemplate Fallback { get; } = Parse(
        "{% for message in messages %}{% set content = message['content'] %}{{ message['role'] }}:" +
        "{% if content is string %} {{ content }}" +
        "{% elif content is defined and content is iterable and content is not mapping %}" +
        " {{ content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') }}" +
        "{% elif content is defined and content is not none %} {{ content }}" +
        "{% endif %}{{ '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}assistant:{% endif %}");

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="ChatTemplateSyntaxException">The source is not valid Jinja (the message gives line and column).</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, Parser.Parse(source));
    }

    /// <summary>Renders the template for <paramref name="context"/>.</summary>
    /// <exception cref="ChatTemplateException">The template called <c>raise_exception</c>, or failed as Python would.</exception>
    public string Render(ChatTemplateContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clock = context.Clock;
        var variables = Globals.Create(() => clock.GetLocalNow().DateTime);
        foreach (var (name, value) in context.Variables)
        {
            if (ReservedNames.Contains(name)) throw new ArgumentException($"'{name}' is set by the context itself, not by Variables.", nameof(context));
            variables[name] = PyJsonInput.Convert(value);
        }
        variables["messages"] = PyJsonInput.Convert(context.Messages);
        variables["tools"] = PyJsonInput.Convert(context.Tools);
        variables["documents"] = PyJsonInput.Convert(context.Documents);
        variables["add_generation_prompt"] = context.AddGenerationPrompt;
        return Renderer.Render(_body, variables);
    }

    /// <summary>Renders with just messages (no tools, no special tokens), for quick use.</summary>
    public string Render(JsonArray messages, bool addGenerationPrompt = false) =>
        Render(new ChatTemplateContext { Messages = messages, AddGenerationPrompt = addGenerationPrompt });
}
