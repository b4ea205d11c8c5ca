namespace Peft.Cli.Data;

/// <summary>
/// <c>{"messages": [{"role": ..., "content": ...}, ...]}</c>: chat rows. Rendering them needs the
/// model's chat template, which this command line does not have yet, so a row fails naming its
/// line. Replace <see cref="Read"/> (e.g. render the template; loss on the assistant turns) to support it.
/// </summary>
public sealed class MessagesFormat : IRecordFormat
{
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
