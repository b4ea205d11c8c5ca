using System.Text.Json.Nodes;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// What a chat template is rendered with, as transformers' <c>apply_chat_template</c> passes it: <c>messages</c>,
/// <c>tools</c>, <c>documents</c>, <c>add_generation_prompt</c>, and every entry of <see cref="Variables"/> (the
/// tokenizer's special tokens and extra keyword arguments such as <c>enable_thinking</c>).
/// </summary>
public sealed class ChatTemplateContext
{
    /// <summary>The conversation: a list of message objects (<c>role</c>, <c>content</c>, <c>tool_calls</c>, ...).</summary>
    public required JsonArray Messages { get; init; }

    /// <summary>Tool (function) schemas; null renders as Python <c>None</c>, which is still <em>defined</em>.</summary>
    public JsonArray? Tools { get; init; }

    /// <summary>Retrieval documents; null (the usual case) renders as <c>None</c>.</summary>
    public JsonArray? Documents { get; init; }

    /// <summary>Whether to end with the header of an assistant turn (transformers' default is false).</summary>
    public bool AddGenerationPrompt { get; init; }

    /// <summary>
    /// Further template variables: special tokens (<c>bos_token</c>, <c>eos_token</c>, ...) and extra keyword arguments.
    /// A JSON null is Python <c>None</c>; a token the tokenizer does not have should be left out (it is then undefined).
    /// They must not repeat the four names above.
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode?> Variables { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The clock <c>strftime_now</c> reads, in its local time zone; the system clock unless set (tests pin it).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// A clock stopped at <paramref name="localNow"/> (a naive local time, as Python's <c>datetime.now()</c> gives), for
    /// reproducible renders of templates that call <c>strftime_now</c>.
    /// </summary>
    public static TimeProvider FixedClock(DateTime localNow) =>
        new StoppedClock(new DateTimeOffset(DateTime.SpecifyKind(localNow, DateTimeKind.Unspecified), TimeSpan.Zero));

    // Reports the instant in UTC and UTC as the local zone, so GetLocalNow() gives back exactly the given wall time.
    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
