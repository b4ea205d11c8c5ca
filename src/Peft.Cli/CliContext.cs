using Spectre.Console;

namespace Peft.Cli;

/// <summary>
/// Where a command writes and what stops it: the two streams, the token Ctrl+C cancels, and
/// whether stdout is a terminal (live displays and colour) or redirected (plain lines).
/// </summary>
/// <param name="Out">Results.</param>
/// <param name="Error">Messages, warnings and statistics.</param>
/// <param name="Cancellation">Cancelled by Ctrl+C (Program wires Console.CancelKeyPress to it).</param>
/// <param name="Interactive">True when stdout is a terminal.</param>
/// <param name="In">What interactive commands (chat) read; null reads nothing (end of input at once).</param>
public sealed record CliContext(TextWriter Out, TextWriter Error, CancellationToken Cancellation, bool Interactive, TextReader? In = null)
{
    /// <summary>A Spectre console over <see cref="Out"/>: ANSI and live updates only on a terminal, fixed width otherwise so tables do not wrap.</summary>
    public IAnsiConsole Console()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Out),
        });
        if (!Interactive) console.Profile.Width = 160;
        return console;
    }
}
