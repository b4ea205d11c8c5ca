using System.Runtime.InteropServices;

namespace Peft.Tensors.Kernels.Native;

/// <summary>
/// Machine code made at run time, placed in pages that are never writable and executable at once: mapped read-write,
/// filled, then switched to read-execute. Linux x64 only (where the kernels' calling convention is System V); anywhere
/// else, or when the system refuses executable pages (a hardened policy), <see cref="TryLoad"/> returns null and the
/// caller keeps its managed kernel. The pages live as long as the process.
/// </summary>
internal static partial class ExecutableMemory
{
    private const int ProtectRead = 1, ProtectWrite = 2, ProtectExecute = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    /// <summary>The code's entry point, or null when it cannot run here.</summary>
    public static unsafe nint? TryLoad(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || code.IsEmpty) return null;
        nuint length = (nuint)((code.Length + 4095) & ~4095);
        nint pages;
        try
        {
            pages = Map(0, length, ProtectRead | ProtectWrite, MapPrivate | MapAnonymous, -1, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        if (pages == -1) return null;
        code.CopyTo(new Span<byte>((void*)pages, code.Length));
        if (Protect(pages, length, ProtectRead | ProtectExecute) != 0)
        {
            Unmap(pages, length);
            return null;
        }
        return pages;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Map(nint address, nuint length, int protection, int flags, int file, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Protect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Unmap(nint address, nuint length);
}
