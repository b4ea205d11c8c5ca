using System.Text;

namespace Peft.Transformers.Loading;

/// <summary>
/// Writes a file whole or not at all: the bytes go to a hidden temporary file beside it, which is flushed to disk and then
/// renamed over the path (and the rename flushed), so a reader, a crash or a killed process sees the old file or the new one,
/// never a part. A failure leaves the old file (or none) and no temporary file, and throws <see cref="WriteFailedException"/>.
/// </summary>
/// <remarks>One writer per file at a time: a write removes the temporary files that killed writes of the same file left.</remarks>
public static class AtomicFile
{
    /// <summary>Writes what <paramref name="write"/> puts in the stream it is given to <paramref name="path"/>.</summary>
    /// <param name="path">The file to create or replace; its folder is created when missing.</param>
    /// <param name="write">Writes the contents (the stream is flushed and closed after it returns).</param>
    /// <exception cref="WriteFailedException">The file could not be written (disk full, read-only destination, ...).</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"The path {path} has no folder.", nameof(path));
        string name = Path.GetFileName(full);
        bool hadPrevious = File.Exists(full);
        string temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}{AtomicFolder.TemporarySuffix}");
        try
        {
            Directory.CreateDirectory(folder);
            RemoveStaleTemporaries(folder, name);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            DiskFlush.Folder(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new WriteFailedException(full, ex, hadPrevious);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark (as <see cref="File.WriteAllText(string, string?)"/>).</summary>
    /// <exception cref="WriteFailedException">The file could not be written.</exception>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream => stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text)));
    }

    // Temporary files of writes that a killed process never finished (one writer per file at a time).
    private static void RemoveStaleTemporaries(string folder, string name)
    {
        foreach (string stale in Directory.EnumerateFiles(folder, $".{name}.*{AtomicFolder.TemporarySuffix}"))
            if (AtomicFolder.IsScratchName(Path.GetFileName(stale), name, AtomicFolder.TemporarySuffix)) TryDelete(stale);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the file is hidden, and the next write of the same file removes it.
        }
    }
}
