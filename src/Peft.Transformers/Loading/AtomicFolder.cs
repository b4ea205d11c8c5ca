namespace Peft.Transformers.Loading;

/// <summary>
/// Writes a folder whole or not at all: the files go into a hidden temporary folder beside it (<c>.NAME.GUID.tmp</c>), which
/// is flushed to disk and moved into place only when every file was written; a folder already there is first moved aside
/// (<c>.NAME.GUID.old</c>) and removed afterwards. A failure leaves the old folder (or none) and no temporary folder, and
/// throws <see cref="WriteFailedException"/> when the file system refused.
/// </summary>
/// <remarks>
/// A process killed between the two moves leaves no folder at the name, only the previous one moved aside: <see cref="Recover"/>
/// (which every write and the readers of checkpoints and adapters call first) moves it back and removes the leftovers of
/// interrupted writes. Leftovers are never read: they have other names. One writer per folder at a time.
/// </remarks>
public static class AtomicFolder
{
    /// <summary>Suffix of the folder (or file) being written.</summary>
    internal const string TemporarySuffix = ".tmp";

    /// <summary>Suffix of the previous folder while the new one moves into place.</summary>
    internal const string PreviousSuffix = ".old";

    /// <summary>Suffix of a previous folder being removed (never restored: its removal may have been cut short).</summary>
    internal const string DiscardedSuffix = ".deleted";

    private const int GuidLength = 32;

    /// <summary>Creates <paramref name="folder"/> with what <paramref name="writeInto"/> writes into the folder it is given.</summary>
    /// <param name="folder">The folder to create or replace; its parent is created when missing.</param>
    /// <param name="writeInto">Writes the files into the temporary folder passed to it.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="folder"/> has no parent folder, or is (or contains) the current directory, which cannot be replaced.
    /// </exception>
    /// <exception cref="WriteFailedException">The file system refused a write (disk full, read-only destination, ...).</exception>
    public static void Write(string folder, Action<string> writeInto) => Write(folder, writeInto, keep: null);

    /// <summary>
    /// Creates or replaces <paramref name="folder"/> with what <paramref name="writeInto"/> writes, plus copies of the entries
    /// of the folder already there whose names <paramref name="keep"/> accepts and the write did not produce.
    /// </summary>
    /// <param name="folder">The folder to create or replace; its parent is created when missing.</param>
    /// <param name="writeInto">Writes the files into the temporary folder passed to it.</param>
    /// <param name="keep">Which entries (file or folder names) of the previous folder to carry over; null keeps none.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="folder"/> has no parent folder, or is (or contains) the current directory, which cannot be replaced.
    /// </exception>
    /// <exception cref="WriteFailedException">The file system refused a write (disk full, read-only destination, ...).</exception>
    public static void Write(string folder, Action<string> writeInto, Func<string, bool>? keep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(writeInto);
        CheckReplaceable(folder);
        var (full, parent, name) = Split(folder);
        string temp = ScratchPath(parent, name, TemporarySuffix);
        string? old = null;
        bool hadPrevious = Directory.Exists(full);
        try
        {
            Directory.CreateDirectory(parent);
            Recover(full);
            hadPrevious = Directory.Exists(full);
            Directory.CreateDirectory(temp);
            writeInto(temp);
            if (keep is not null && hadPrevious) CopyKept(full, temp, keep);
            // The data must be on disk before the rename that publishes it, or a crash could publish empty files.
            DiskFlush.Tree(temp);
            if (hadPrevious)
            {
                old = ScratchPath(parent, name, PreviousSuffix);
                Directory.Move(full, old);
            }
            Directory.Move(temp, full);
            DiskFlush.Folder(parent);
        }
        catch (Exception ex)
        {
            Undo(full, temp, old);
            if (ex is IOException or UnauthorizedAccessException) throw new WriteFailedException(full, ex, hadPrevious);
            throw;
        }
        if (old is not null) Discard(old);
    }

    /// <summary>Throws when <see cref="Write(string, Action{string})"/> could not replace <paramref name="folder"/>, before any work is done.</summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="folder"/> has no parent folder, or is (or contains) the current directory, which cannot be moved aside.
    /// </exception>
    public static void CheckReplaceable(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var (full, _, _) = Split(folder);
        string here = Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory);
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (here.Equals(full, comparison) || here.StartsWith(full + Path.DirectorySeparatorChar, comparison))
#pragma warning disable CA2208 // The message names the folder; a "(Parameter 'folder')" suffix would only clutter the CLI's one-line error.
            throw new ArgumentException($"Cannot replace {full}: it is or contains the current directory; write to another folder.");
#pragma warning restore CA2208
    }

    /// <summary>
    /// Puts <paramref name="folder"/> back when an interrupted write left it only moved aside, and removes the temporary and
    /// moved-aside folders that interrupted writes left beside it. Does nothing when there are none.
    /// </summary>
    /// <param name="folder">The folder that <see cref="Write(string, Action{string})"/> writes.</param>
    /// <returns>True when the folder was missing and its previous version was moved back.</returns>
    /// <exception cref="WriteFailedException">The previous version could not be moved back.</exception>
    public static bool Recover(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var (full, parent, name) = Split(folder);
        if (!Directory.Exists(parent)) return false;
        var previous = Scratches(parent, name, PreviousSuffix);
        bool restored = false;
        if (!Directory.Exists(full) && previous.Count > 0)
        {
            // Only one is ever left (each write recovers first); the newest is the right one if not.
            string newest = previous.OrderByDescending(Directory.GetLastWriteTimeUtc).First();
            try
            {
                Directory.Move(newest, full);
                DiskFlush.Folder(parent);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new WriteFailedException(full, ex, hadPrevious: false);
            }
            previous.Remove(newest);
            restored = true;
        }
        foreach (string stale in previous.Concat(Scratches(parent, name, TemporarySuffix)).Concat(Scratches(parent, name, DiscardedSuffix)))
            Discard(stale);
        return restored;
    }

    /// <summary>True for <c>.NAME.GUID</c> + <paramref name="suffix"/>, the name of a scratch entry of <paramref name="name"/>.</summary>
    internal static bool IsScratchName(string entry, string name, string suffix) =>
        entry.Length == 1 + name.Length + 1 + GuidLength + suffix.Length
        && entry.StartsWith('.') && string.CompareOrdinal(entry, 1, name, 0, name.Length) == 0 && entry[1 + name.Length] == '.'
        && entry.EndsWith(suffix, StringComparison.Ordinal)
        && entry.AsSpan(2 + name.Length, GuidLength).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>True for the name of any scratch entry (of any file or folder): <c>.NAME.GUID.tmp</c>, <c>.old</c> or <c>.deleted</c>.</summary>
    internal static bool IsScratchName(string entry)
    {
        foreach (string suffix in new[] { TemporarySuffix, PreviousSuffix, DiscardedSuffix })
        {
            int nameLength = entry.Length - 2 - GuidLength - suffix.Length;
            if (nameLength > 0 && IsScratchName(entry, entry.Substring(1, nameLength), suffix)) return true;
        }
        return false;
    }

    private static (string Full, string Parent, string Name) Split(string folder)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        string parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"The folder {folder} has no parent folder.", nameof(folder));
        return (full, parent, Path.GetFileName(full));
    }

    private static string ScratchPath(string parent, string name, string suffix) => Path.Combine(parent, $".{name}.{Guid.NewGuid():N}{suffix}");

    private static List<string> Scratches(string parent, string name, string suffix) =>
        Directory.EnumerateDirectories(parent, $".{name}.*{suffix}").Where(d => IsScratchName(Path.GetFileName(d), name, suffix)).ToList();

    private static void CopyKept(string from, string to, Func<string, bool> keep)
    {
        foreach (string entry in Directory.EnumerateFileSystemEntries(from))
        {
            string name = Path.GetFileName(entry), target = Path.Combine(to, name);
            if (!keep(name) || IsScratchName(name) || Path.Exists(target)) continue;
            if (Directory.Exists(entry)) CopyFolder(entry, target);
            else File.Copy(entry, target);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string sub in Directory.EnumerateDirectories(from)) CopyFolder(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    // After a failure: the previous folder back at its name (if it was moved aside), no temporary folder.
    private static void Undo(string full, string temp, string? old)
    {
        try
        {
            if (old is not null && !Directory.Exists(full) && Directory.Exists(old)) Directory.Move(old, full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Recover moves it back on the next write or read.
        }
        Discard(temp);
    }

    // Renamed first, so a removal cut short is never taken for a previous folder to restore.
    private static void Discard(string scratch)
    {
        try
        {
            if (!Directory.Exists(scratch)) return;
            string parent = Path.GetDirectoryName(scratch)!, name = Path.GetFileName(scratch);
            string discarded = scratch;
            if (!name.EndsWith(DiscardedSuffix, StringComparison.Ordinal))
            {
                discarded = Path.Combine(parent, name[..^(name.EndsWith(PreviousSuffix, StringComparison.Ordinal) ? PreviousSuffix : TemporarySuffix).Length]
                    + DiscardedSuffix);
                Directory.Move(scratch, discarded);
            }
            Directory.Delete(discarded, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the leftover has a scratch name, is never read, and the next Recover removes it.
        }
    }
}
