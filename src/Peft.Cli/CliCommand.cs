using System.CommandLine;

namespace Peft.Cli;

/// <summary>
/// One <c>peft</c> subcommand. Adding a command is one file: derive from this class (with a
/// parameterless constructor) and <see cref="PeftCommand"/> finds it; its options are fields
/// added in <see cref="Define"/>, its work is <see cref="Execute"/>.
/// </summary>
public abstract class CliCommand
{
    /// <summary>The word after <c>peft</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One sentence for the command list and the help.</summary>
    public abstract string Description { get; }

    /// <summary>A command line shown under "Example:" in the help.</summary>
    public abstract string Example { get; }

    /// <summary>Where the command is listed in the help (lower first).</summary>
    public virtual int Order => 100;

    /// <summary>Adds the command's arguments and options to <paramref name="command"/>.</summary>
    protected abstract void Define(Command command);

    /// <summary>Runs the command; returns the exit code. Throw <see cref="UsageException"/> for bad usage or input.</summary>
    protected abstract int Execute(ParseResult result, CliContext context);

    /// <summary>Builds the System.CommandLine command bound to <paramref name="context"/>.</summary>
    public Command Build(CliContext context)
    {
        var command = new Command(Name, $"{Description}\n\nExample:\n  {Example}");
        Define(command);
        command.SetAction(result => Execute(result, context));
        return command;
    }

    /// <summary>The value of an option this command requires; a missing one is a usage error naming it.</summary>
    protected T Required<T>(ParseResult result, Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(option);
        return result.GetResult(option) is { Implicit: false } && result.GetValue(option) is { } value
            ? value
            : throw new UsageException($"{Name}: missing required option {option.Name}.");
    }

    /// <summary>Whether the option was written on the command line.</summary>
    protected static bool Given(ParseResult result, Option option)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetResult(option) is { Implicit: false };
    }
}
