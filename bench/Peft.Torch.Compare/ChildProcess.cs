using System.Diagnostics;

namespace Peft.Torch.Compare;

/// <summary>Runs a program to the end and returns its standard output; a failure throws with the end of its output.</summary>
internal static class ChildProcess
{
    public static string Run(string program, IEnumerable<string> arguments, string? folder = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder ?? Environment.CurrentDirectory,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        // Both streams read at once, so a child filling one pipe cannot block on it.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        string text = output.Result, errors = error.Result;
        if (process.ExitCode != 0)
        {
            string tail = (text + errors).Length > 4000 ? (text + errors)[^4000..] : text + errors;
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}):\n{tail}");
        }
        return text;
    }
}
