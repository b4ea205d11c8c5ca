namespace Peft.Fuzz;

/// <summary>
/// One parser under fuzzing and its contract: given any bytes, it returns, or throws one of the
/// exception types its documentation names, with a message. Anything else (IndexOutOfRange,
/// NullReference, OutOfMemory from a length field, StackOverflow, a hang) is a crash.
/// </summary>
/// <param name="Name">The target's name on the command line and its corpus folder's name.</param>
/// <param name="Documented">The exception types the parser documents.</param>
/// <param name="Parse">Runs the parser (and what uses its result) on an input.</param>
public sealed record FuzzTarget(string Name, IReadOnlyList<Type> Documented, Action<byte[]> Parse)
{
    /// <summary>
    /// Runs the parser on <paramref name="input"/>; returns null when it accepted the input, or the documented exception it
    /// threw. An undocumented exception, or a documented one without a message, propagates: to afl that is a crash.
    /// </summary>
    public Exception? Run(byte[] input)
    {
        try
        {
            Parse(input);
            return null;
        }
        catch (Exception e) when (Documented.Any(t => t.IsInstanceOfType(e)) && !string.IsNullOrWhiteSpace(e.Message))
        {
            return e;
        }
    }
}
