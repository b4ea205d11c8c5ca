using System.Text.Json.Nodes;

namespace Peft.Extensions.AI;

/// <summary>How a conversation becomes the prompt text the model continues.</summary>
internal interface IChatPrompt
{
    /// <summary>
    /// Whether the tokenizer adds its special tokens when encoding the rendered text (false for chat
    /// templates, which write them, as transformers' <c>apply_chat_template</c> encodes).
    /// </summary>
    bool AddSpecialTokens { get; }

    /// <summary>The prompt for the conversation, ending where the assistant's answer starts.</summary>
    string Render(JsonArray messages, JsonArray? tools);
}
