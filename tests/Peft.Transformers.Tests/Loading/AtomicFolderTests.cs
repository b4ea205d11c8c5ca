using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class AtomicFolderTests
{
    [TestMethod]
    public void AFolderIsReplacedOnlyWhenWrittenWhole()
    {
        string parent = Directory.CreateTempSubdirectory("peft-atomic-").FullName;
        try
        {
            string folder = Path.Combine(parent, "out");
            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "a.txt"), "first"));
            Assert.AreEqual("first", File.ReadAllText(Path.Combine(folder, "a.txt")));

            Assert.ThrowsExactly<IOException>(() => AtomicFolder.Write(folder, temp =>
            {
                File.WriteAllText(Path.Combine(temp, "a.txt"), "second");
                throw new IOException("disk full");
            }));
            Assert.AreEqual("first", File.ReadAllText(Path.Combine(folder, "a.txt")), "a failed write leaves the old folder");
            CollectionAssert.AreEqual(new[] { "out" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray(), "no temporary folder left");

            AtomicFolder.Write(folder, temp => File.WriteAllText(Path.Combine(temp, "b.txt"), "third"));
            CollectionAssert.AreEqual(new[] { "b.txt" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(), "replaced whole, nothing of the old");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
