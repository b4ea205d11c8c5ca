namespace Peft.Cli.Data;

/// <summary>
/// <c>{"messages": [{"role": ..., "content": ...}, ...]}</c>: chat rows. Rendering them needs the
/// model's chat template, which this command line does not have yet, so a row fails naming its
/// line. To support it, replace <see cref="Read"/>: render the conversation with the template of
/// <see cref="ModelFolder"/> and return a <see cref="ExampleKind.Completion"/> example (prompt = the
/// rendered turns before the last assistant turn, target = that turn), so the loss falls on the answer.
/// </summary>
/// <param name="modelFolder">The model folder whose tokenizer_config.json / chat_template.jinja holds the template, or null.</param>
public sealed class MessagesFormat(string? modelFolder) : IRecordFormat
{
    /// <summary>The model folder the rows are for (where the chat template is), or null when unknown.</summary>
    public string? ModelFolder { get; } = modelFolder;

    /// <inheritdoc/>
    public IReadOnlyList<string> Fields { get; } = ["messages"];

    /// <inheritdoc/>
    public TextExample Read(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        throw new UsageException($"{record.Location}: \"messages\" (chat) rows are not supported yet (they need the model's chat template); " +
            "use {\"prompt\", \"completion\"} rows.");
    }
}
