using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>Finds and reads ../shared/fixtures/chat_templates (cases.json, templates.json).</summary>
internal static class ChatTemplateFixtures
{
    private static readonly Lazy<JsonArray> LazyCases = new(() => (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!);
    private static readonly Lazy<JsonObject> LazyTemplates = new(() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "templates.json")))!);

    /// <summary>The clock the fixtures were made with: 2025-03-07 09:05:03, naive local time.</summary>
    public static readonly TimeProvider Clock = ChatTemplateContext.FixedClock(new DateTime(2025, 3, 7, 9, 5, 3));

    public static string Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "chat_templates");
                if (Directory.Exists(candidate)) return candidate;
                candidate = Path.Combine(dir.FullName, "..", "shared", "fixtures", "chat_templates");
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
            throw new DirectoryNotFoundException("../shared/fixtures/chat_templates not found beside the repository.");
        }
    }

    public static JsonArray Cases => LazyCases.Value;

    public static JsonObject Templates => LazyTemplates.Value;

    public static ChatTemplateContext ContextOf(JsonObject testCase)
    {
        var variables = new Dictionary<string, JsonNode?>();
        if (testCase["variables"] is JsonObject given)
        {
            foreach (var (key, value) in given) variables[key] = value?.DeepClone();
        }
        return new ChatTemplateContext
        {
            Messages = (JsonArray)testCase["messages"]!.DeepClone(),
            Tools = testCase["tools"]?.DeepClone() as JsonArray,
            AddGenerationPrompt = testCase["add_generation_prompt"]?.GetValue<bool>() ?? false,
            Variables = variables,
            Clock = Clock,
        };
    }
}
