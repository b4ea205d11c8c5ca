namespace Peft.Transformers.Loading;

/// <summary>
/// A file or folder could not be written (disk full, read-only or refused destination, ...). The message names the
/// destination and the cause, and says that what was there before is unchanged: every writer that throws this writes
/// to a temporary name first and removes it on failure.
/// </summary>
public sealed class WriteFailedException : IOException
{
    // errno values (Linux; ENOSPC and EROFS are the same on macOS) and Windows HRESULTs that .NET puts in IOException.HResult.
    private const int NoSpace = 28, ReadOnlyFileSystem = 30, QuotaExceeded = 122;
    private const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>Creates the exception for <paramref name="path"/>, with the cause read from <paramref name="innerException"/>.</summary>
    /// <param name="path">The file or folder that was being written.</param>
    /// <param name="innerException">What the operating system reported.</param>
    /// <param name="hadPrevious">Whether a file or folder was already at <paramref name="path"/> (and is still there, unchanged).</param>
    public WriteFailedException(string path, Exception innerException, bool hadPrevious)
        : this(path, CauseOf(innerException), innerException, hadPrevious)
    {
    }

    private WriteFailedException(string path, string cause, Exception innerException, bool hadPrevious)
        : base($"Could not write {path}: {cause.TrimEnd('.')}. " + (hadPrevious ? $"The previous {path} is unchanged." : "Nothing was left there."),
            innerException)
    {
        Path = path;
        Cause = cause;
    }

    /// <summary>The file or folder that was being written.</summary>
    public string Path { get; }

    /// <summary>Why it failed, in words (e.g. "the disk is full (No space left on device)").</summary>
    public string Cause { get; }

    private static string CauseOf(Exception ex) => ex switch
    {
        // A file written inside a folder write already named the cause; the folder is what the caller asked for.
        WriteFailedException inner => inner.Cause,
        UnauthorizedAccessException => $"access denied: the destination is read-only or not writable ({ex.Message})",
        IOException { HResult: NoSpace or WindowsDiskFull or WindowsHandleDiskFull } => $"the disk is full ({ex.Message})",
        IOException { HResult: ReadOnlyFileSystem } => $"the file system is read-only ({ex.Message})",
        IOException { HResult: QuotaExceeded } when OperatingSystem.IsLinux() => $"the disk quota is exceeded ({ex.Message})",
        _ => ex.Message,
    };
}
