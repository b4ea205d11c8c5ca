namespace Peft.Transformers.Loading;

/// <summary>
/// Writes a folder whole or not at all: the files go into a hidden temporary folder beside it, which is moved into
/// place only when every file was written; a folder already there is replaced only then. A failure leaves the old
/// folder (or none) and no temporary folder.
/// </summary>
public static class AtomicFolder
{
    /// <summary>Creates <paramref name="folder"/> with what <paramref name="writeInto"/> writes into the folder it is given.</summary>
    /// <param name="folder">The folder to create or replace; its parent is created when missing.</param>
    /// <param name="writeInto">Writes the files into the temporary folder passed to it.</param>
    /// <exception cref="ArgumentException"><paramref name="folder"/> has no parent folder.</exception>
    public static void Write(string folder, Action<string> writeInto)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(writeInto);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        string parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"The folder {folder} has no parent folder.", nameof(folder));
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            writeInto(temp);
            string? old = null;
            if (Directory.Exists(full))
            {
                old = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.old");
                Directory.Move(full, old);
            }
            Directory.Move(temp, full);
            if (old is not null) Directory.Delete(old, recursive: true);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }
}
