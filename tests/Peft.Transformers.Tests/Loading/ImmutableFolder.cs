using System.Diagnostics;

namespace Peft.Transformers.Tests;

/// <summary>
/// A folder the kernel refuses to change, even for root (tests run as root, so permissions would not stop a write): Linux's
/// immutable attribute (<c>chattr +i</c>): nothing can be created, renamed or removed in it. It is made on the disk the tests
/// run from, which supports the attribute, rather than in a temporary file system that may not. Dispose lifts it and deletes the folder.
/// </summary>
internal sealed class ImmutableFolder : IDisposable
{
    private ImmutableFolder(string path) => Path = path;

    /// <summary>The folder (immutable from <see cref="Freeze"/> until disposed).</summary>
    public string Path { get; }

    /// <summary>An empty folder beside the test assembly, still writable: fill it, then <see cref="Freeze"/>.</summary>
    public static ImmutableFolder Create()
    {
        string path = System.IO.Path.Combine(AppContext.BaseDirectory, $"immutable-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return new ImmutableFolder(path);
    }

    /// <summary>Makes the folder immutable; fails the test when the kernel or file system cannot.</summary>
    public void Freeze() => Chattr("+i");

    public void Dispose()
    {
        Chattr("-i");
        Directory.Delete(Path, recursive: true);
    }

    private void Chattr(string flag)
    {
        var start = new ProcessStartInfo("chattr") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(flag);
        start.ArgumentList.Add(Path);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(30_000), "chattr finished");
        Assert.AreEqual(0, process.ExitCode, $"chattr {flag} {Path}: {error}");
    }
}
