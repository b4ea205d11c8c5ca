using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class AtomicFolderTests
{
    private static string Guid32() => Guid.NewGuid().ToString("N");

    private static string[] Entries(string folder) =>
        Directory.GetFileSystemEntries(folder).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToArray();

    [TestMethod]
    public void AFolderIsReplacedOnlyWhenWrittenWhole()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "out");
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "a.txt"), "first"));
            Assert.AreEqual("first", File.ReadAllText(Path.Combine(folder, "a.txt")));

            var failure = Assert.ThrowsExactly<WriteFailedException>(() => AtomicFolder.Write(folder, temp =>
            {
                File.WriteAllText(Path.Combine(temp, "a.txt"), "second");
                throw new IOException("disk full");
            }));
            Assert.AreEqual($"Could not write {folder}: disk full. The previous {folder} is unchanged.", failure.Message);
            Assert.AreEqual("first", File.ReadAllText(Path.Combine(folder, "a.txt")), "a failed write leaves the old folder");
            CollectionAssert.AreEqual(new[] { "out" }, Entries(parent), "no temporary folder left");

            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "b.txt"), "third"));
            CollectionAssert.AreEqual(new[] { "b.txt" }, Entries(folder), "replaced whole, nothing of the old");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void AnExceptionOtherThanIOPassesThroughAndLeavesTheOldFolder()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "out");
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "a.txt"), "first"));
            Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFolder.Write(folder, _ => throw new InvalidOperationException("bug")));
            CollectionAssert.AreEqual(new[] { "out" }, Entries(parent));
            Assert.AreEqual("first", File.ReadAllText(Path.Combine(folder, "a.txt")));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void RecoverPutsBackAFolderAKilledWriteLeftOnlyMovedAside()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            // What a write killed between its two moves leaves: the previous folder moved aside, the new one complete beside it.
            string folder = Path.Combine(parent, "checkpoint");
            string previous = Path.Combine(parent, $".checkpoint.{Guid32()}.old"), written = Path.Combine(parent, $".checkpoint.{Guid32()}.tmp");
            Directory.CreateDirectory(previous);
            File.WriteAllText(Path.Combine(previous, "state.json"), "step 4");
            Directory.CreateDirectory(written);
            File.WriteAllText(Path.Combine(written, "state.json"), "step 5");

            Assert.IsTrue(AtomicFolder.Recover(folder), "the folder was missing and is back");
            Assert.AreEqual("step 4", File.ReadAllText(Path.Combine(folder, "state.json")), "the last complete folder is back at its name");
            CollectionAssert.AreEqual(new[] { "checkpoint" }, Entries(parent), "the unfinished write is removed");
            Assert.IsFalse(AtomicFolder.Recover(folder), "nothing left to recover");

            // A write recovers first, so it replaces the folder that was moved back rather than failing or losing it.
            Directory.Move(folder, previous);
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "state.json"), "step 6"));
            Assert.AreEqual("step 6", File.ReadAllText(Path.Combine(folder, "state.json")));
            CollectionAssert.AreEqual(new[] { "checkpoint" }, Entries(parent));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void LeftoversOfKilledWritesAreNeverReadAndTheNextWriteRemovesOnlyThose()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "out");
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "a.txt"), "whole"));
            // A half-written temporary folder, a previous folder whose removal was cut short, one being discarded.
            string[] leftovers = [$".out.{Guid32()}.tmp", $".out.{Guid32()}.old", $".out.{Guid32()}.deleted"];
            // Names that only look alike: another folder's leftover, and user folders.
            string[] others = [$".outer.{Guid32()}.tmp", ".out.notaguid.tmp", $"out.{Guid32()}.old"];
            foreach (string name in leftovers.Concat(others))
            {
                Directory.CreateDirectory(Path.Combine(parent, name));
                File.WriteAllText(Path.Combine(parent, name, "a.txt"), "partial");
            }

            Assert.IsFalse(AtomicFolder.Recover(folder), "the folder is there: nothing is moved back");
            Assert.AreEqual("whole", File.ReadAllText(Path.Combine(folder, "a.txt")), "a leftover never replaces the folder");
            CollectionAssert.AreEqual(new[] { "out" }.Concat(others).Order(StringComparer.Ordinal).ToArray(), Entries(parent),
                "the folder's leftovers are gone, every other name stays");

            foreach (string name in leftovers) Directory.CreateDirectory(Path.Combine(parent, name));
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "a.txt"), "next"));
            CollectionAssert.AreEqual(new[] { "out" }.Concat(others).Order(StringComparer.Ordinal).ToArray(), Entries(parent), "a write cleans up too");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void KeptEntriesOfThePreviousFolderAreCarriedOver()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "out");
            AtomicFolder.Write(folder, temp =>
            {
                File.WriteAllText(Path.Combine(temp, "notes.txt"), "mine");
                File.WriteAllText(Path.Combine(temp, "weights.bin"), "old");
                Directory.CreateDirectory(Path.Combine(temp, "checkpoint", "deep"));
                File.WriteAllText(Path.Combine(temp, "checkpoint", "deep", "state.json"), "step 3");
                Directory.CreateDirectory(Path.Combine(temp, "runs", "one"));
                File.WriteAllText(Path.Combine(temp, "runs", "one", "log.txt"), "kept");
            });
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "weights.bin"), "new"), keep: name => name != "checkpoint");
            CollectionAssert.AreEqual(new[] { "notes.txt", "runs", "weights.bin" }, Entries(folder));
            Assert.AreEqual("new", File.ReadAllText(Path.Combine(folder, "weights.bin")), "what the write produced wins");
            Assert.AreEqual("mine", File.ReadAllText(Path.Combine(folder, "notes.txt")));
            Assert.AreEqual("kept", File.ReadAllText(Path.Combine(folder, "runs", "one", "log.txt")));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void ADiskFullWriteNamesTheFolderAndTheCauseAndKeepsThePreviousFolder()
    {
        // /dev/full refuses every write with ENOSPC, as a full disk does: a real error from the kernel, reached through a file of the folder.
        Assert.IsTrue(File.Exists("/dev/full"), "Linux's /dev/full");
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "checkpoint");
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "state.json"), "step 1"));
            var failure = Assert.ThrowsExactly<WriteFailedException>(() => AtomicFolder.Write(folder, temp =>
            {
                File.WriteAllText(Path.Combine(temp, "state.json"), "step 2");
                File.CreateSymbolicLink(Path.Combine(temp, "tensors.bin"), "/dev/full");
                File.WriteAllBytes(Path.Combine(temp, "tensors.bin"), new byte[1 << 16]);
            }));
            Assert.AreEqual(folder, failure.Path);
            StringAssert.StartsWith(failure.Message, $"Could not write {folder}: the disk is full (No space left on device");
            StringAssert.EndsWith(failure.Message, $"The previous {folder} is unchanged.");
            Assert.AreEqual(28, failure.InnerException!.HResult, "ENOSPC from the kernel");
            Assert.AreEqual("step 1", File.ReadAllText(Path.Combine(folder, "state.json")));
            CollectionAssert.AreEqual(new[] { "checkpoint" }, Entries(parent), "no temporary folder left");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void AReadOnlyDestinationNamesTheFolderAndTheCauseAndKeepsThePreviousFolder()
    {
        using var destination = ImmutableFolder.Create();
        string folder = Path.Combine(destination.Path, "adapter");
        AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "adapter_config.json"), "{\"r\": 4}"));
        destination.Freeze();

        var failure = Assert.ThrowsExactly<WriteFailedException>(() =>
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "adapter_config.json"), "{\"r\": 8}")));
        StringAssert.StartsWith(failure.Message, $"Could not write {folder}: access denied: the destination is read-only or not writable (");
        StringAssert.EndsWith(failure.Message, $"The previous {folder} is unchanged.");
        Assert.IsInstanceOfType<UnauthorizedAccessException>(failure.InnerException, "EPERM from the kernel");
        Assert.AreEqual("{\"r\": 4}", File.ReadAllText(Path.Combine(folder, "adapter_config.json")));
        CollectionAssert.AreEqual(new[] { "adapter" }, Entries(destination.Path));

        // A single file written in place is refused the same way (here: the folder itself is immutable).
        var fileFailure = Assert.ThrowsExactly<WriteFailedException>(() => AtomicFile.WriteAllText(Path.Combine(destination.Path, "labels.json"), "[]"));
        StringAssert.Contains(fileFailure.Message, Path.Combine(destination.Path, "labels.json") + ": access denied");
        StringAssert.EndsWith(fileFailure.Message, "Nothing was left there.");
    }

    [TestMethod]
    public void TheCurrentDirectoryIsNeverMovedAside()
    {
        string here = Environment.CurrentDirectory;
        var failure = Assert.ThrowsExactly<ArgumentException>(() => AtomicFolder.Write(here, _ => { }));
        StringAssert.Contains(failure.Message, "current directory");
        Assert.IsTrue(Directory.Exists(here));
    }
}
