using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>Syntax errors: jinja2's message and the 1-based line and column of the offending token.</summary>
[TestClass]
public sealed class ChatTemplateSyntaxTests
{
    [TestMethod]
    [DataRow("{% if %}", "Expected an expression, got 'end of statement block'", 1, 7)]
    [DataRow("{% for x in %}{% endfor %}", "Expected an expression, got 'end of statement block'", 1, 13)]
    [DataRow("{% if true %}", "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'."
        + " The innermost block that needs to be closed is 'if'.", 1, 14)]
    [DataRow("{% endif %}", "Encountered unknown tag 'endif'.", 1, 4)]
    [DataRow("{{ 1 + }}", "unexpected 'end of print statement'", 1, 8)]
    [DataRow("{% foo %}", "Encountered unknown tag 'foo'.", 1, 4)]
    [DataRow("{% for x in y %}{% endif %}", "Encountered unknown tag 'endif'. Jinja was looking for the following tags: 'endfor' or 'else'."
        + " The innermost block that needs to be closed is 'for'.", 1, 20)]
    [DataRow("{{ a b }}", "expected token 'end of print statement', got 'b'", 1, 6)]
    [DataRow("{% macro m(a=1, b) %}{% endmacro %}", "non-default argument follows default argument", 1, 17)]
    [DataRow("line one\n{{ ok }}\n  {% set = 1 %}", "unexpected '='", 3, 10)]
    [DataRow("{# never closed", "Missing end of comment tag", 1, 1)]
    [DataRow("{{ (1 }}", "unexpected '}', expected ')'", 1, 7)]
    public void Syntax_error_names_the_problem_and_where(string source, string message, int line, int column)
    {
        var error = Assert.ThrowsExactly<ChatTemplateSyntaxException>(() => ChatTemplate.Parse(source));
        Assert.AreEqual($"{message} (line {line}, column {column})", error.Message);
        Assert.AreEqual(line, error.Line);
        Assert.AreEqual(column, error.Column);
        Assert.IsInstanceOfType<FormatException>(error);
    }

    [TestMethod]
    public void Unterminated_string_fails_at_its_quote()
    {
        var error = Assert.ThrowsExactly<ChatTemplateSyntaxException>(() => ChatTemplate.Parse("ok\n{{ 'unterminated }}"));
        Assert.AreEqual(2, error.Line);
        Assert.AreEqual(4, error.Column);
    }

    [TestMethod]
    public void Unsupported_tags_fail_at_parse_time() =>
        StringAssert.Contains(Assert.ThrowsExactly<ChatTemplateSyntaxException>(() => ChatTemplate.Parse("{% include 'x' %}")).Message, "not supported");

    [TestMethod]
    public void Raise_exception_message_is_exact_and_marked()
    {
        var template = ChatTemplate.Parse("{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}");
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => template.Render([]));
        Assert.AreEqual("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
        Assert.IsTrue(error.RaisedByTemplate);
    }

    [TestMethod]
    public void Runtime_errors_read_like_python()
    {
        var messages = new JsonArray(new JsonObject { ["role"] = "user" });
        var missing = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{{ messages[0].content.strip() }}").Render(messages));
        Assert.AreEqual("'dict object' has no attribute 'content'", missing.Message);
        Assert.IsFalse(missing.RaisedByTemplate);
        var concat = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{{ 'a' + messages[0] }}").Render(messages));
        Assert.AreEqual("can only concatenate str (not \"dict\") to str", concat.Message);
        var unsafeCall = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{{ messages.append(1) }}").Render(messages));
        Assert.AreEqual("access to attribute 'append' of 'list' object is unsafe.", unsafeCall.Message);
    }

    [TestMethod]
    public void Runaway_recursion_fails_cleanly()
    {
        var recursive = ChatTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.ThrowsExactly<ChatTemplateException>(() => recursive.Render([]));
        var deep = ChatTemplate.Parse("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ f(150) }}");
        Assert.AreEqual("done", deep.Render([]));
    }

    [TestMethod]
    public void Absurd_nesting_fails_as_a_syntax_error_not_a_crash()
    {
        string source = "{{ " + new string('(', 200_000) + "1" + new string(')', 200_000) + " }}";
        Assert.ThrowsExactly<ChatTemplateSyntaxException>(() => ChatTemplate.Parse(source));
    }
}
