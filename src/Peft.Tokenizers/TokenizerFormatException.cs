namespace Peft.Tokenizers;

/// <summary>
/// A tokenizer file that cannot be used: malformed JSON, an unsupported component type, or entries that contradict each other; the message
/// names the file and where.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TokenizerFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public TokenizerFormatException(string message, Exception inner) : base(message, inner) { }
}
