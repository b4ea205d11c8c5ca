using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>Loading templates and special tokens from model folders (temporary ones written here, and the tokenizer fixtures).</summary>
[TestClass]
public sealed class TokenizerChatTemplatesTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "chat-templates-" + Guid.NewGuid().ToString("N")));

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private void Write(string relativePath, string text)
    {
        string path = Path.Combine(_folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void WriteConfig(JsonObject config) => Write("tokenizer_config.json", config.ToJsonString());

    private static JsonArray User(string text) => new(new JsonObject { ["role"] = "user", ["content"] = text });

    [TestMethod]
    public void String_template_is_the_default()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "{{ bos_token }}{% for m in messages %}[{{ m.content }}]{% endfor %}", ["bos_token"] = "<s>" });
        var templates = TokenizerChatTemplates.Load(_folder)!;
        Assert.AreEqual(TokenizerChatTemplates.DefaultName, templates.Templates.Keys.Single());
        Assert.AreEqual("<s>[hi]", templates.Render(User("hi")));
    }

    [TestMethod]
    public void Named_templates_select_by_name_tools_then_default()
    {
        WriteConfig(new JsonObject
        {
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "default", ["template"] = "default" },
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools:{{ tools | length }}" },
                new JsonObject { ["name"] = "rag", ["template"] = "rag" }),
        });
        var templates = TokenizerChatTemplates.Load(_folder)!;
        Assert.HasCount(3, templates.Templates);
        Assert.AreEqual("default", templates.Render(User("x")));
        Assert.AreEqual("tools:1", templates.Render(User("x"), tools: new JsonArray(new JsonObject { ["name"] = "f" })));
        Assert.AreEqual("rag", templates.Render(User("x"), templateName: "rag"));
        Assert.AreEqual("default", templates.Render(User("x"), tools: new JsonArray(), templateName: "default"));
        Assert.ThrowsExactly<KeyNotFoundException>(() => templates.Select("missing"));
    }

    [TestMethod]
    public void Named_templates_without_a_default_need_a_name()
    {
        WriteConfig(new JsonObject { ["chat_template"] = new JsonArray(new JsonObject { ["name"] = "a", ["template"] = "A" }) });
        var templates = TokenizerChatTemplates.Load(_folder)!;
        Assert.ThrowsExactly<KeyNotFoundException>(() => templates.Select());
        Assert.AreEqual("A", templates.Render(User("x"), templateName: "a"));
    }

    [TestMethod]
    public void Chat_template_jinja_file_wins_and_additional_templates_are_named()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "from config", ["eos_token"] = "</s>" });
        Write("chat_template.jinja", "from file{{ eos_token }}\n");
        Write("additional_chat_templates/tool_use.jinja", "tool file");
        var templates = TokenizerChatTemplates.Load(_folder)!;
        Assert.AreEqual("from file</s>", templates.Render(User("x")));
        Assert.AreEqual("tool file", templates.Render(User("x"), tools: new JsonArray()));
    }

    [TestMethod]
    public void Jinja_file_alone_is_enough()
    {
        Write("chat_template.jinja", "{{ messages[0].content }}");
        Assert.AreEqual("x", TokenizerChatTemplates.Load(_folder)!.Render(User("x")));
    }

    [TestMethod]
    public void Processor_chat_template_json_is_read()
    {
        Write("chat_template.json", new JsonObject { ["chat_template"] = "processor {{ messages | length }}" }.ToJsonString());
        Assert.AreEqual("processor 1", TokenizerChatTemplates.Load(_folder)!.Render(User("x")));
    }

    [TestMethod]
    public void Special_tokens_as_strings_added_tokens_and_nulls()
    {
        WriteConfig(new JsonObject
        {
            ["chat_template"] = "{{ bos_token }}|{{ eos_token }}|{{ unk_token is defined }}|{{ pad_token is defined }}|{{ additional_special_tokens }}",
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["lstrip"] = false, ["__type"] = "AddedToken" },
            ["eos_token"] = "</s>",
            ["unk_token"] = null,
            ["pad_token"] = "",
            ["additional_special_tokens"] = new JsonArray("<a>", new JsonObject { ["content"] = "<b>" }),
        });
        var templates = TokenizerChatTemplates.Load(_folder)!;
        Assert.AreEqual("<s>|</s>|False|False|['<a>', '<b>']", templates.Render(User("x")));
        Assert.IsFalse(templates.SpecialTokens.ContainsKey("unk_token"));
        Assert.AreEqual("<s>", templates.SpecialTokens["bos_token"]!.GetValue<string>());
    }

    [TestMethod]
    public void Special_tokens_map_fills_in_what_the_config_does_not_name()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "{{ bos_token }}{{ eos_token }}", ["eos_token"] = "</s>" });
        Write("special_tokens_map.json", new JsonObject { ["bos_token"] = "<s>", ["eos_token"] = "<other>" }.ToJsonString());
        Assert.AreEqual("<s></s>", TokenizerChatTemplates.Load(_folder)!.Render(User("x")));
    }

    [TestMethod]
    public void Extra_variables_reach_the_template()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "{{ enable_thinking }}{{ date_string | default('none') }}" });
        var extra = new Dictionary<string, JsonNode?> { ["enable_thinking"] = false };
        Assert.AreEqual("Falsenone", TokenizerChatTemplates.Load(_folder)!.Render(User("x"), extraVariables: extra));
    }

    [TestMethod]
    public void Folder_without_a_template_gives_null()
    {
        Assert.IsNull(TokenizerChatTemplates.Load(_folder));
        WriteConfig(new JsonObject { ["bos_token"] = "<s>" });
        Assert.IsNull(TokenizerChatTemplates.Load(_folder));
    }

    [TestMethod]
    public void Malformed_config_fails_naming_the_file()
    {
        Write("tokenizer_config.json", "{ not json");
        StringAssert.Contains(Assert.ThrowsExactly<TokenizerFormatException>(() => TokenizerChatTemplates.Load(_folder)).Message, "tokenizer_config.json");
    }

    [TestMethod]
    public void Template_syntax_errors_surface_when_loading()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "{% if %}" });
        Assert.ThrowsExactly<ChatTemplateSyntaxException>(() => TokenizerChatTemplates.Load(_folder));
    }

    [TestMethod]
    [DataRow("qwen3", "qwen3/system_multi_turn/agp=true")]
    [DataRow("qwen3", "qwen3/tool_round_trip/agp=true")]
    [DataRow("llama3", "llama3-instruct/system_multi_turn/agp=true")]
    public void Tokenizer_fixture_folders_render_their_cases(string folder, string caseId)
    {
        var templates = TokenizerChatTemplates.Load(TokenizerFixtureTests.Folder(folder))!;
        var testCase = ChatTemplateFixtures.Cases.OfType<JsonObject>().Single(c => c["id"]!.GetValue<string>() == caseId);
        string text = templates.Render(
            (JsonArray)testCase["messages"]!.DeepClone(),
            testCase["tools"]?.DeepClone() as JsonArray,
            testCase["add_generation_prompt"]!.GetValue<bool>(),
            clock: ChatTemplateFixtures.Clock);
        Assert.AreEqual(testCase["expected"]!.GetValue<string>(), text);
    }

    [TestMethod]
    public void Gpt2_has_no_template_and_the_fallback_is_plain()
    {
        Assert.IsNull(TokenizerChatTemplates.Load(TokenizerFixtureTests.Folder("gpt2")));
        var messages = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "Be brief." },
            new JsonObject { ["role"] = "user", ["content"] = "Hi" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hello" }),
            },
            new JsonObject { ["role"] = "user", ["content"] = "Bye" },
            new JsonObject { ["role"] = "assistant", ["content"] = null },
            new JsonObject { ["role"] = "tool" });
        Assert.AreEqual("system: Be brief.\nuser: Hi\nassistant: Hello\nuser: Bye\nassistant:\ntool:\n", ChatTemplate.Fallback.Render(messages));
        Assert.AreEqual(
            "system: Be brief.\nuser: Hi\nassistant: Hello\nuser: Bye\nassistant:\ntool:\nassistant:",
            ChatTemplate.Fallback.Render(messages, addGenerationPrompt: true));
    }
}
