using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Extensions.AI;

/// <summary>
/// The model's own chat template (rendered as transformers' <c>apply_chat_template(..., add_generation_prompt=True)</c>
/// with the tokenizer's special tokens), or, for a model without one, <see cref="ChatTemplate.Fallback"/>.
/// </summary>
internal sealed class TemplatePrompt(TokenizerChatTemplates? templates, PeftChatClientOptions options) : IChatPrompt
{
    /// <summary>The model's template writes its special tokens; the fallback relies on the tokenizer's (as plain text prompts do).</summary>
    public bool AddSpecialTokens => templates is null;

    /// <inheritdoc/>
    public string Render(JsonArray messages, JsonArray? tools) => templates is null
        ? ChatTemplate.Fallback.Render(new ChatTemplateContext
        {
            Messages = messages,
            Tools = tools,
            AddGenerationPrompt = true,
            Variables = options.TemplateVariables ?? new Dictionary<string, JsonNode?>(),
            Clock = options.Clock,
        })
        : templates.Render(messages, tools, addGenerationPrompt: true, options.TemplateVariables, clock: options.Clock);
}
