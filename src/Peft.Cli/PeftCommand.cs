using Peft.Cli.Commands;
using Peft.Transformers.Configuration;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli;

/// <summary>
/// The <c>peft</c> command's dispatcher: exit 0 on success, 2 with a one-line message on bad
/// usage or input (unknown options, missing files, corrupt safetensors, wrong shapes, token ids
/// out of range), so scripts can tell the two apart.
/// </summary>
public static class PeftCommand
{
    /// <summary>The help text.</summary>
    public const string Help = "usage:\n  " + LogitsCommand.Usage + "\n  " + GenerateCommand.Usage + "\n  " + TokenizeCommand.Usage;

    /// <summary>Runs the command line <paramref name="args"/>, writing messages to <paramref name="stderr"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? stderr : stdout).WriteLine(Help);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var rest = args.Skip(1).ToArray();
            return args[0] switch
            {
                "logits" => LogitsCommand.Run(rest),
                "generate" => GenerateCommand.Run(rest),
                "tokenize" => TokenizeCommand.Run(rest, stdout),
                _ => throw new UsageException($"unknown command '{args[0]}'; commands: logits, generate, tokenize (see peft --help)."),
            };
        }
        catch (Exception ex) when (ex is UsageException or ModelConfigException or SafeTensorsFormatException
            or Peft.Tuners.Adapters.AdapterConfigException or FileNotFoundException
            or DirectoryNotFoundException or InvalidDataException or ArgumentException or Peft.Tokenizers.TokenizerFormatException)
        {
            stderr.WriteLine($"peft: {ex.Message.ReplaceLineEndings(" ")}");
            return 2;
        }
    }
}
