using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// The templates of templates.json that cases.json has no cases for (the hidden acceptance set renders them): each
/// parses, and renders the fixture conversations of its kind (tool conversations when it handles tools, content
/// parts when it handles images) to text or fails only with a <see cref="ChatTemplateException"/>.
/// </summary>
[TestClass]
public sealed class ChatTemplateCaselessTemplateTests
{
    private static readonly string[] BaseConversations =
    [
        "single_user", "system_multi_turn", "multi_turn_no_system", "assistant_last", "empty_system", "unicode_emoji",
        "jinja_braces", "whitespace", "non_alternating", "reasoning",
    ];

    private static readonly string[] ToolConversations = ["tools_available", "tool_round_trip", "tool_call_no_content", "parallel_tool_calls"];

    public static IEnumerable<object[]> CaselessTemplateNames
    {
        get
        {
            var withCases = ChatTemplateFixtures.Cases.Select(c => c!["template_name"]!.GetValue<string>()).ToHashSet();
            return ChatTemplateFixtures.Templates.Select(kv => kv.Key).Where(name => !withCases.Contains(name)).Select(name => new object[] { name });
        }
    }

    public static IEnumerable<object[]> AllTemplateNames => ChatTemplateFixtures.Templates.Select(kv => new object[] { kv.Key });

    private static JsonObject ConversationCase(string conversation) =>
        ChatTemplateFixtures.Cases.OfType<JsonObject>().First(c => c["conversation"]!.GetValue<string>() == conversation);

    [TestMethod]
    [DynamicData(nameof(AllTemplateNames))]
    public void Every_fixture_template_parses(string name) =>
        Assert.IsNotNull(ChatTemplate.Parse(ChatTemplateFixtures.Templates[name]!.GetValue<string>()));

    [TestMethod]
    public void There_are_sixteen_caseless_templates() => Assert.AreEqual(16, CaselessTemplateNames.Count());

    [TestMethod]
    [DynamicData(nameof(CaselessTemplateNames))]
    public void Caseless_template_renders_the_conversations_of_its_kind(string name)
    {
        string source = ChatTemplateFixtures.Templates[name]!.GetValue<string>();
        var template = ChatTemplate.Parse(source);
        bool handlesTools = source.Contains("tool", StringComparison.Ordinal);
        var conversations = BaseConversations.AsEnumerable();
        if (handlesTools) conversations = conversations.Concat(ToolConversations);
        if (source.Contains("image", StringComparison.Ordinal)) conversations = conversations.Append("content_parts");

        int rendered = 0;
        var log = new List<string>();
        foreach (string conversation in conversations)
        {
            var testCase = ConversationCase(conversation);
            foreach (bool addGenerationPrompt in new[] { true, false })
            {
                var context = new ChatTemplateContext
                {
                    Messages = (JsonArray)testCase["messages"]!.DeepClone(),
                    Tools = testCase["tools"]?.DeepClone() as JsonArray,
                    AddGenerationPrompt = addGenerationPrompt,
                    Variables = new Dictionary<string, JsonNode?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>" },
                    Clock = ChatTemplateFixtures.Clock,
                };
                try
                {
                    string text = template.Render(context);
                    Assert.IsFalse(string.IsNullOrWhiteSpace(text), $"{name}/{conversation}: empty render");
                    rendered++;
                }
                catch (ChatTemplateException e)
                {
                    log.Add($"{conversation}/agp={addGenerationPrompt}: {(e.RaisedByTemplate ? "raise_exception" : "runtime")}: {e.Message}");
                }
            }
        }
        Assert.IsGreaterThan(0, rendered, $"{name} rendered nothing:\n{string.Join("\n", log)}");
    }

    [TestMethod]
    [DynamicData(nameof(CaselessTemplateNames))]
    public void Caseless_template_shows_the_user_text(string name)
    {
        string source = ChatTemplateFixtures.Templates[name]!.GetValue<string>();
        // A tool-use-only template needs tools to render at all (Python fails iterating None too).
        bool needsTools = source.Contains("for tool in tools", StringComparison.Ordinal) && !source.Contains("tools is not none", StringComparison.Ordinal);
        var testCase = ConversationCase(needsTools ? "tools_available" : "single_user");
        var context = ChatTemplateFixtures.ContextOf(testCase);
        string text = ChatTemplate.Parse(source).Render(context);
        string userText = testCase["messages"]!.AsArray().Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.GetValue<string>();
        StringAssert.Contains(text, userText, $"{name}:\n{text}");
    }
}
