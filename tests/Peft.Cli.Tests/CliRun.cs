namespace Peft.Cli.Tests;

/// <summary>Runs the peft command in-process and captures its streams.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Error) Run(params string[] args) => Run(CancellationToken.None, null, args);

    /// <summary>Runs with <paramref name="input"/> as what interactive commands read.</summary>
    public static (int Code, string Out, string Error) RunWithInput(string input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = PeftCommand.Run(args, new CliContext(stdout, stderr, CancellationToken.None, Interactive: false, new StringReader(input)));
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs with a cancellation token; <paramref name="onLine"/> sees each stdout line as it is written.</summary>
    public static (int Code, string Out, string Error) Run(CancellationToken token, Action<string>? onLine, params string[] args)
    {
        var stdout = new LineWatcher(onLine);
        var stderr = new StringWriter();
        int code = PeftCommand.Run(args, new CliContext(stdout, stderr, token, Interactive: false));
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static string TempFolder() => Path.Combine(Path.GetTempPath(), $"peft-cli-{Guid.NewGuid():N}");

    public static string WriteLines(string folder, string name, params string[] lines)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>A StringWriter that reports each completed line.</summary>
    private sealed class LineWatcher(Action<string>? onLine) : StringWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override void Write(char value)
        {
            base.Write(value);
            if (value == '\n')
            {
                onLine?.Invoke(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r') _line.Append(value);
        }

        public override void Write(string? value)
        {
            foreach (char c in value ?? "") Write(c);
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }
    }
}
