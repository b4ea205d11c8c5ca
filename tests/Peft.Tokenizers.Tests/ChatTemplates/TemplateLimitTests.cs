using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Templates that would exhaust memory or run for hours (afl found format widths of 888,888,888) fail with a
/// ChatTemplateException naming what grew, in well under a second or two; ordinary templates never come near.
/// </summary>
[TestClass]
public sealed class TemplateLimitTests
{
    private static string Render(string template) => ChatTemplate.Parse(template).Render(new JsonArray());

    [TestMethod]
    [DataRow("{{ '%888888888d' % 1 }}", "a format width")]
    [DataRow("{{ '{:>999999999}'.format(1) }}", "a format width")]
    [DataRow("{{ '{:.999999999f}'.format(1.5) }}", "a format precision")]
    [DataRow("{{ 'ab' * 100000000 }}", "a repetition with '*'")]
    [DataRow("{{ [1, 2] * 100000000 }}", "a repetition with '*'")]
    [DataRow("{{ 'x'.center(999999999) }}", "center()'s width")]
    [DataRow("{{ 'x'.ljust(999999999) }}", "ljust()'s width")]
    [DataRow("{{ 'x' | indent(999999999) }}", "indent's width")]
    [DataRow("{{ ('x' * 10000000).replace('x', 'yyyy') }}", "the result of replace()")]
    [DataRow("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "the rendered text")]
    public void WhatWouldGrowPastTheLimitFailsNamingIt(string template, string what)
    {
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => Render(template));
        StringAssert.StartsWith(error.Message, what);
        StringAssert.Contains(error.Message, "16,777,216");
    }

    [TestMethod]
    public void NestedLoopsStopAtTheStepLimit()
    {
        const string emptyNestedLoops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => Render(emptyNestedLoops));
        StringAssert.Contains(error.Message, "20,000,000 statements and loop iterations");
    }

    [TestMethod]
    public void LargeButReasonableOutputsStillRender()
    {
        Assert.AreEqual(1_000_000, Render("{{ 'x' * 1000000 }}").Length);
        Assert.AreEqual(100_000, Render("{% for i in range(100000) %}x{% endfor %}").Length);
        Assert.AreEqual("  x  ", Render("{{ 'x'.center(5) }}"));
    }
}
