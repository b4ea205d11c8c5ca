using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Peft.Extensions.AI;

/// <summary>
/// Microsoft.Extensions.AI's messages and tools in the shape Hugging Face chat templates read
/// (what transformers' <c>apply_chat_template</c> is given): <c>{"role", "content"}</c> with text
/// content, <c>tool_calls</c> of <c>{"type": "function", "id", "function": {"name", "arguments"}}</c>,
/// tool results as <c>{"role": "tool", "tool_call_id", "content"}</c>, and tools as
/// <c>{"type": "function", "function": {"name", "description", "parameters"}}</c>.
/// </summary>
internal static class TemplateMessages
{
    /// <summary>The conversation, with <paramref name="instructions"/> (ChatOptions.Instructions) as or before its system message.</summary>
    public static JsonArray From(IEnumerable<ChatMessage> messages, string? instructions)
    {
        var result = new JsonArray();
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            foreach (var converted in Convert(message)) result.Add(converted);
        }
        if (!string.IsNullOrEmpty(instructions))
        {
            if (result.Count > 0 && result[0]!["role"]!.GetValue<string>() == "system")
                result[0]!["content"] = instructions + "\n\n" + result[0]!["content"]!.GetValue<string>();
            else
                result.Insert(0, new JsonObject { ["role"] = "system", ["content"] = instructions });
        }
        return result;
    }

    /// <summary>The tools' declarations, or null when there are none (templates test <c>tools is none</c>).</summary>
    public static JsonArray? Tools(IList<AITool>? tools)
    {
        var functions = tools?.OfType<AIFunctionDeclaration>().ToArray() ?? [];
        if (functions.Length == 0) return null;
        var result = new JsonArray();
        foreach (var function in functions)
            result.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = function.Name,
                    ["description"] = function.Description,
                    ["parameters"] = JsonNode.Parse(function.JsonSchema.GetRawText()),
                },
            });
        return result;
    }

    private static IEnumerable<JsonObject> Convert(ChatMessage message)
    {
        // A tool result is its own message in templates, one per call answered.
        foreach (var result in message.Contents.OfType<FunctionResultContent>())
            yield return new JsonObject { ["role"] = "tool", ["tool_call_id"] = result.CallId, ["content"] = ResultText(result.Result) };
        var calls = message.Contents.OfType<FunctionCallContent>().ToArray();
        string text = message.Text;
        if (calls.Length == 0 && text.Length == 0 && message.Contents.OfType<FunctionResultContent>().Any()) yield break;
        var converted = new JsonObject { ["role"] = message.Role.Value, ["content"] = text };
        if (calls.Length > 0)
        {
            var toolCalls = new JsonArray();
            foreach (var call in calls)
                toolCalls.Add(new JsonObject
                {
                    ["type"] = "function",
                    ["id"] = call.CallId,
                    ["function"] = new JsonObject
                    {
                        ["name"] = call.Name,
                        ["arguments"] = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions),
                    },
                });
            converted["tool_calls"] = toolCalls;
        }
        yield return converted;
    }

    private static string ResultText(object? result) => result switch
    {
        null => "",
        string text => text,
        JsonElement element when element.ValueKind == JsonValueKind.String => element.GetString()!,
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };
}
