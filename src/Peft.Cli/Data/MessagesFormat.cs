using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Cli.Data;

/// <summary>
/// <c>{"messages": [{"role": ..., "content": ...}, ...]}</c>: chat rows, ending with the assistant turn to
/// learn. With the model's chat template (tokenizer_config.json or chat_template.jinja of
/// <see cref="ModelFolder"/>) the row is a <see cref="ExampleKind.Chat"/> example: the conversation before the
/// last turn rendered with the generation prompt, and what the whole conversation adds after it (the answer
/// and the template's end of turn), as TRL-style trainers split it. A model without a template uses
/// <see cref="ChatTemplate.Fallback"/> ("role: content" lines) and the answer as a completion ending in eos.
/// </summary>
/// <param name="modelFolder">The model folder whose chat template renders the rows, or null for the fallback.</param>
public sealed class MessagesFormat(string? modelFolder) : IRecordFormat
{
    private readonly Lazy<TokenizerChatTemplates?> _templates = new(() => modelFolder is null ? null : TokenizerChatTemplates.Load(modelFolder));

    /// <summary>The model folder the rows are for (where the chat template is), or null when unknown.</summary>
    public string? ModelFolder { get; } = modelFolder;

    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["messages"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Fields["messages"] is not JsonArray messages || messages.Count < 2 || messages.Any(m => m is not JsonObject))
            throw new UsageException($"{record.Location}: \"messages\" must be a list of at least two message objects (the last one the assistant's answer).");
        if (messages[^1]!["role"]?.GetValue<string>() != "assistant" || messages[^1]!["content"]?.GetValueKind() != System.Text.Json.JsonValueKind.String)
            throw new UsageException($"{record.Location}: the last message must be the assistant's, with string content: it is what the adapter learns to answer.");
        var before = new JsonArray([.. messages.Take(messages.Count - 1).Select(m => m!.DeepClone())]);
        int? taskId = record.OptionalInt("task_id");
        try
        {
            TokenizerChatTemplates? templates;
            try
            {
                templates = _templates.Value;
            }
            catch (ChatTemplateSyntaxException ex)
            {
                throw new UsageException($"the chat template of {ModelFolder} is not valid Jinja (line {ex.Line}, column {ex.Column}): {ex.Message}");
            }
            if (templates is null)
            {
                string fallbackPrompt = ChatTemplate.Fallback.Render(before, addGenerationPrompt: true);
                return new(ExampleKind.Completion, fallbackPrompt, " " + messages[^1]!["content"]!.GetValue<string>(), null, taskId, record.Location);
            }
            string prompt = templates.Render(before, addGenerationPrompt: true);
            string whole = templates.Render(messages.DeepClone().AsArray());
            if (!whole.StartsWith(prompt, StringComparison.Ordinal))
                throw new UsageException($"{record.Location}: the chat template renders the conversation before the answer differently from the start " +
                    "of the whole conversation, so the answer cannot be cut out; use {\"prompt\", \"completion\"} rows.");
            return new(ExampleKind.Chat, prompt, whole[prompt.Length..], null, taskId, record.Location);
        }
        catch (ChatTemplateException ex)
        {
            throw new UsageException($"{record.Location}: the chat template refused the conversation: {ex.Message}");
        }
    }
}
