namespace Peft.Extensions.AI;

/// <summary>Settings of a <see cref="PeftChatClient"/> that no request's <c>ChatOptions</c> gives.</summary>
public sealed record PeftChatClientOptions
{
    /// <summary>New tokens at most when a request does not set <c>MaxOutputTokens</c>.</summary>
    public int MaxOutputTokens { get; init; } = 256;

    /// <summary>The model id reported in metadata and responses (default: the model folder's name, or "peft").</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// Extra template variables (transformers' <c>apply_chat_template</c> keyword arguments, e.g.
    /// <c>enable_thinking</c>), added to the tokenizer's special tokens.
    /// </summary>
    public IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?>? TemplateVariables { get; init; }

    /// <summary>The clock for response timestamps and the template's <c>strftime_now</c>.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
