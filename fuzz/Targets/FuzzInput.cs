using System.Text;

namespace Peft.Fuzz;

/// <summary>Ways the targets read their bytes.</summary>
internal static class FuzzInput
{
    /// <summary>The bytes as UTF-8 text (invalid sequences become U+FFFD, as File.ReadAllText reads them).</summary>
    public static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    /// <summary>
    /// The bytes split at the first NUL into two texts: what a target reads as its main input and a second input (e.g. a
    /// template and the messages it renders); the second is null without a NUL.
    /// </summary>
    public static (string First, string? Second) Split(byte[] input)
    {
        var (first, second) = SplitBytes(input);
        return (Text(first), second is null ? null : Text(second));
    }

    /// <summary>The bytes split at the first NUL, as bytes (for a binary second input); the second is null without a NUL.</summary>
    public static (byte[] First, byte[]? Second) SplitBytes(byte[] input)
    {
        int nul = Array.IndexOf(input, (byte)0);
        return nul < 0 ? (input, null) : (input[..nul], input[(nul + 1)..]);
    }

    /// <summary>Runs <paramref name="use"/> on a fresh scratch folder that is removed afterwards.</summary>
    public static void InScratchFolder(Action<string> use)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"peft-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            use(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
