using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Fuzz;

/// <summary>
/// A chat template's source, then (after a NUL) the messages as JSON: parsed, then rendered with those messages (or a
/// fixed conversation when they are absent or not a JSON array), as apply_chat_template renders.
/// </summary>
public static class ChatTemplateTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("chat-template", [typeof(ChatTemplateSyntaxException), typeof(ChatTemplateException)], Parse);

    private const string DefaultMessages = """
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
         {"role": "assistant", "content": "Hello", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]},
         {"role": "tool", "content": "42"}]
        """;

    private static void Parse(byte[] input)
    {
        var (source, messagesJson) = FuzzInput.Split(input);
        var template = ChatTemplate.Parse(source);
        _ = template.Render(Messages(messagesJson), addGenerationPrompt: true);
    }

    private static JsonArray Messages(string? json)
    {
        if (json is not null)
        {
            try
            {
                // A JsonNode with duplicate keys fails wherever it is read (not ours to catch): such input is not JSON here.
                if (JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) is JsonArray fuzzed)
                    return fuzzed;
            }
            catch (JsonException)
            {
                // Not JSON: the fixed conversation instead.
            }
        }
        return JsonNode.Parse(DefaultMessages)!.AsArray();
    }
}
