using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli;

/// <summary>
/// The <c>peft</c> command's dispatcher: exit 0 on success, 2 with a one-line message on bad
/// usage or input (unknown options, missing files, malformed data naming file and line, corrupt
/// safetensors, wrong shapes, token ids out of range), 1 with a one-line message on any other
/// failure (a write refused by the disk names the path and the cause), so scripts can tell them apart. Commands are the <see cref="CliCommand"/> classes of
/// this assembly.
/// </summary>
public static class PeftCommand
{
    /// <summary>Every command, in help order.</summary>
    public static IReadOnlyList<CliCommand> Commands { get; } = typeof(CliCommand).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(CliCommand)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (CliCommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Order).ThenBy(c => c.Name, StringComparer.Ordinal).ToArray();

    /// <summary>The short help: one usage example per command.</summary>
    public static string Help => "usage: peft COMMAND [options]   (peft COMMAND --help for a command's options)\n" +
        string.Join("\n", Commands.Select(c => $"  {c.Name,-10} {c.Description}\n             e.g. {c.Example}"));

    /// <summary>Runs the command line <paramref name="args"/>, writing messages to <paramref name="stderr"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, new CliContext(stdout, stderr, CancellationToken.None, false));

    /// <summary>Runs <paramref name="args"/> in <paramref name="context"/> (the console program passes Ctrl+C's token and whether stdout is a terminal).</summary>
    public static int Run(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "-?" or "help")
        {
            (args.Length == 0 ? context.Error : context.Out).WriteLine(Help);
            return args.Length == 0 ? 2 : 0;
        }
        if (!args[0].StartsWith('-') && Commands.All(c => c.Name != args[0]))
            return Fail(context, 2, $"unknown command '{args[0]}'; commands: {string.Join(", ", Commands.Select(c => c.Name))} (see peft --help).");
        var root = new RootCommand("peft: fine-tune, run and inspect transformer models and PEFT adapters on the CPU.");
        foreach (var command in Commands) root.Subcommands.Add(command.Build(context));
        // No @response-file expansion: a prompt such as "@user hello" is text, not a file to read.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction && parsed.Errors.Count > 0)
        {
            string where = parsed.CommandResult.Command is { } c && c != root ? $"{c.Name}: " : "";
            return Fail(context, 2, $"{where}{parsed.Errors[0].Message.TrimEnd('.')} (see peft {(where.Length > 0 ? where.TrimEnd(':', ' ') + " " : "")}--help).");
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception ex) when (IsBadInput(ex))
        {
            return Fail(context, 2, ex.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail(context, 1, "cancelled.");
        }
        catch (WriteFailedException ex)
        {
            // The message names the destination, the cause and what is left: no exception type to add.
            return Fail(context, 1, "error: " + ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Anything else is a failure of ours or of the machine: one line, no stack trace
            // (PEFT_CLI_DEBUG=1 shows it).
            if (Environment.GetEnvironmentVariable("PEFT_CLI_DEBUG") == "1") context.Error.WriteLine(ex);
            return Fail(context, 1, $"error: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Exceptions the engine throws for input it cannot use: exit code 2.</summary>
    private static bool IsBadInput(Exception ex) => ex is UsageException or ModelConfigException or SafeTensorsFormatException
        or Peft.Tuners.Adapters.AdapterConfigException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
        or ArgumentException or Peft.Tokenizers.TokenizerFormatException;

    private static int Fail(CliContext context, int code, string message)
    {
        context.Error.WriteLine($"peft: {message.ReplaceLineEndings(" ")}");
        return code;
    }
}
