using System.Runtime.InteropServices;

namespace Peft.Transformers.Loading;

/// <summary>
/// Forces written data to the disk (fsync), so that a rename which makes a file or folder visible is never followed, after a
/// power loss or a kernel crash, by a file that is there but empty. A folder is flushed too: that is what makes a rename in it
/// durable on Linux and macOS. Windows has no folder flush; there only files are flushed.
/// </summary>
internal static class DiskFlush
{
    // errno values that mean "this file system does not flush folders", the same on Linux and macOS.
    private const int InvalidArgument = 22;

    /// <summary>Flushes the contents of the file at <paramref name="path"/>.</summary>
    public static void File(string path)
    {
        // Windows' FlushFileBuffers needs write access; fsync on Unix does not (so read-only files flush as well).
        var access = OperatingSystem.IsWindows() ? FileAccess.ReadWrite : FileAccess.Read;
        using var handle = System.IO.File.OpenHandle(path, FileMode.Open, access, FileShare.ReadWrite);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>Flushes the entries of the folder at <paramref name="path"/> (names created, renamed or removed in it).</summary>
    public static void Folder(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
        // .NET will not open a folder as a file handle, so this goes to libc.
        int fd = Native.open(path, 0);
        if (fd < 0) throw ErrnoException("open", path, Marshal.GetLastPInvokeError());
        try
        {
            if (Native.fsync(fd) != 0 && Marshal.GetLastPInvokeError() is int errno && errno != InvalidArgument)
                throw ErrnoException("fsync", path, errno);
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>Flushes every file and folder under <paramref name="folder"/>, and the folder itself.</summary>
    public static void Tree(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder)) File(file);
        foreach (string sub in Directory.EnumerateDirectories(folder)) Tree(sub);
        Folder(folder);
    }

    // HResult = errno, as .NET's own IOExceptions on Unix carry it (WriteFailedException reads it to name the cause).
    private static IOException ErrnoException(string call, string path, int errno) =>
        new($"{call}({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);

    private static class Native
    {
#pragma warning disable SYSLIB1054 // LibraryImport would generate the same marshalling; these three calls are not hot.
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
#pragma warning restore SYSLIB1054
    }
}
