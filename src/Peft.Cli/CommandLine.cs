namespace Peft.Cli;

/// <summary>
/// The parsed arguments of one command: <c>--name value</c> options (repeatable ones collected in
/// order) and <c>--flag</c> switches. Unknown or missing options are usage errors that name them.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/> given the options that take a value and the switches.</summary>
    public CommandLine(string command, IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        Command = command;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (valueOptions.Contains(a))
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"{command}: option {a} needs a value.");
                if (!_values.TryGetValue(a, out var list)) _values[a] = list = [];
                list.Add(args[++i]);
            }
            else if (flagOptions.Contains(a)) _flags.Add(a);
            else throw new UsageException($"{command}: unknown argument '{a}'; options: {string.Join(" ", valueOptions.Concat(flagOptions))}.");
        }
    }

    /// <summary>The command name, for messages.</summary>
    public string Command { get; }

    /// <summary>The value of a required option.</summary>
    public string Required(string option) =>
        _values.TryGetValue(option, out var v) ? v[^1] : throw new UsageException($"{Command}: missing required option {option}.");

    /// <summary>The value of an optional option, or null.</summary>
    public string? Optional(string option) => _values.TryGetValue(option, out var v) ? v[^1] : null;

    /// <summary>Every value given for a repeatable option.</summary>
    public IReadOnlyList<string> All(string option) => _values.TryGetValue(option, out var v) ? v : [];

    /// <summary>Whether a switch was given.</summary>
    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>A positive integer option.</summary>
    public int PositiveInt(string option, int defaultValue)
    {
        string? text = Optional(option);
        if (text is null) return defaultValue;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new UsageException($"{Command}: {option} must be a positive integer; got '{text}'.");
    }
}
