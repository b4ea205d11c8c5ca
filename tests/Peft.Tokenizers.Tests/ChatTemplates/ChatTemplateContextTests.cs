using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>How the context reaches the template: JSON values as Python values, tools/documents None, the clock.</summary>
[TestClass]
public sealed class ChatTemplateContextTests
{
    private static string Render(string template, ChatTemplateContext context) => ChatTemplate.Parse(template).Render(context);

    [TestMethod]
    public void Json_numbers_keep_int_or_float_as_written()
    {
        var messages = JsonNode.Parse("""[{"a": 2, "b": 12.5, "c": 1e-5, "d": 1E16, "e": 2.0, "f": -0, "g": 12345678901234}]""")!.AsArray();
        Assert.AreEqual(
            "2 12.5 1e-05 1e+16 2.0 0 12345678901234|{\"a\": 2, \"b\": 12.5, \"c\": 1e-05, \"d\": 1e+16, \"e\": 2.0, \"f\": 0, \"g\": 12345678901234}",
            Render("{% set m = messages[0] %}{{ m.a }} {{ m.b }} {{ m.c }} {{ m.d }} {{ m.e }} {{ m.f }} {{ m.g }}|{{ m | tojson }}",
                new ChatTemplateContext { Messages = messages }));
    }

    [TestMethod]
    public void Values_built_in_code_convert_like_parsed_ones()
    {
        var messages = new JsonArray(new JsonObject
        {
            ["int"] = 2, ["long"] = 3L, ["double"] = 12.5, ["decimal"] = 1.50m, ["bool"] = true, ["null"] = null, ["char"] = 'x', ["text"] = "é",
        });
        Assert.AreEqual("{'int': 2, 'long': 3, 'double': 12.5, 'decimal': 1.5, 'bool': True, 'null': None, 'char': 'x', 'text': 'é'}",
            Render("{{ messages[0] }}", new ChatTemplateContext { Messages = messages }));
    }

    [TestMethod]
    public void Tools_and_documents_default_to_a_defined_none()
    {
        Assert.AreEqual("True True True True False",
            Render("{{ tools is defined }} {{ tools is none }} {{ documents is none }} {{ documents is defined }} {{ add_generation_prompt }}",
                new ChatTemplateContext { Messages = [] }));
    }

    [TestMethod]
    public void Null_variables_are_none_and_missing_ones_undefined()
    {
        var context = new ChatTemplateContext { Messages = [], Variables = new Dictionary<string, JsonNode?> { ["pad_token"] = null } };
        Assert.AreEqual("None True|False", Render("{{ pad_token }} {{ pad_token is none }}|{{ bos_token is defined }}", context));
    }

    [TestMethod]
    public void Context_names_cannot_be_repeated_in_variables()
    {
        var context = new ChatTemplateContext { Messages = [], Variables = new Dictionary<string, JsonNode?> { ["messages"] = new JsonArray() } };
        Assert.ThrowsExactly<ArgumentException>(() => Render("x", context));
    }

    [TestMethod]
    public void Strftime_now_reads_the_given_clock()
    {
        var context = new ChatTemplateContext { Messages = [], Clock = ChatTemplateFixtures.Clock };
        Assert.AreEqual("07 Mar 2025|March 07, 2025|2025-03-07|Friday 09:05:03 AM",
            Render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}|{{ strftime_now('%Y-%m-%d') }}|"
                + "{{ strftime_now('%A %H:%M:%S %p') }}", context));
    }

    [TestMethod]
    public void A_parsed_template_renders_concurrently()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}{{ loop.index }}{{ m.content }}{% set x = m.content %}{% endfor %}");
        var results = Enumerable.Range(0, 64).AsParallel().Select(i =>
            template.Render(new JsonArray(new JsonObject { ["content"] = $"a{i}" }, new JsonObject { ["content"] = $"b{i}" }))).ToList();
        for (int i = 0; i < results.Count; i++) Assert.AreEqual($"1a{i}2b{i}", results[i]);
    }
}
