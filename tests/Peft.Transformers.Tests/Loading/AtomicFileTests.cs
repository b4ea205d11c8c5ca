using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class AtomicFileTests
{
    [TestMethod]
    public void AFileIsReplacedOnlyWhenWrittenWholeAndLeftoversAreRemoved()
    {
        string folder = Directory.CreateTempSubdirectory("peft-atomic-file-").FullName;
        try
        {
            string path = Path.Combine(folder, "config.json");
            AtomicFile.WriteAllText(path, "first");
            // The temporary file of a write killed midway, and a user's file that only looks alike.
            string stale = Path.Combine(folder, $".config.json.{Guid.NewGuid():N}.tmp"), mine = Path.Combine(folder, ".config.json.mine.tmp");
            File.WriteAllText(stale, "fir");
            File.WriteAllText(mine, "keep");

            var failure = Assert.ThrowsExactly<WriteFailedException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write("second"u8);
                throw new IOException("device error");
            }));
            Assert.AreEqual($"Could not write {path}: device error. The previous {path} is unchanged.", failure.Message);
            Assert.AreEqual("first", File.ReadAllText(path));
            CollectionAssert.AreEquivalent(new[] { ".config.json.mine.tmp", "config.json" },
                Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(), "no temporary file left, the stale one removed");

            AtomicFile.WriteAllText(path, "third ü");
            CollectionAssert.AreEqual("third ü"u8.ToArray(), File.ReadAllBytes(path), "UTF-8 without a byte-order mark");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
