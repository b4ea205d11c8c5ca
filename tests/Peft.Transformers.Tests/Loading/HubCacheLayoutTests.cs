using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

/// <summary>
/// A model folder laid out as Hugging Face's hub cache lays it out: every file a symbolic link into a blob store
/// (snapshots/REV/model.safetensors -> ../../blobs/HASH). The weights are read through the links, not as the links.
/// </summary>
[TestClass]
public sealed class HubCacheLayoutTests
{
    [TestMethod]
    public void AFolderOfLinksIntoABlobStoreLoadsLikeTheFolderItself()
    {
        string source = Fixtures.Hf("gpt2_base", "base");
        string root = Path.Combine(Path.GetTempPath(), $"peft-hub-cache-{Guid.NewGuid():N}");
        try
        {
            string blobs = Directory.CreateDirectory(Path.Combine(root, "blobs")).FullName;
            string snapshot = Directory.CreateDirectory(Path.Combine(root, "snapshots", "rev")).FullName;
            int blob = 0;
            foreach (string file in Directory.GetFiles(source))
            {
                string target = Path.Combine(blobs, $"blob{blob++}");
                File.Copy(file, target);
                File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", Path.GetFileName(target)));
            }
            string weights = Path.Combine(snapshot, "model.safetensors");
            Assert.IsNotNull(new FileInfo(weights).LinkTarget, "the test folder really holds links");
            Assert.AreEqual(new FileInfo(Path.Combine(source, "model.safetensors")).Length, ResolvedFile.Info(weights).Length);

            using (var file = SafeTensorsFile.Open(weights))
                Assert.IsGreaterThan(0, file.Tensors.Count);
            var ids = IntTensor.FromArray([5, 9, 13, 2], 1, 4);
            float[] expected, actual;
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                expected = ModelLoader.LoadCausal(source).Forward(inputIds: ids).Logits.ToArray();
                actual = ModelLoader.LoadCausal(snapshot).Forward(inputIds: ids).Logits.ToArray();
            }
            CollectionAssert.AreEqual(expected, actual);

            // A dangling link is a missing file, named.
            File.Delete(Path.Combine(blobs, "blob0"));
            string dangling = Path.Combine(snapshot, Path.GetFileName(Directory.GetFiles(source)[0]));
            Assert.IsFalse(ResolvedFile.Info(dangling).Exists);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
