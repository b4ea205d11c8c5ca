namespace Peft.Cli;

/// <summary>Bad usage or bad input: reported as one line on stderr with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    /// <summary>The underlying reason without the command's context, when the message wraps one (inspect shows it alone).</summary>
    public string? Detail { get; init; }
}
