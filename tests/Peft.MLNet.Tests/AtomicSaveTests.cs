using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Tests;

[TestClass]
public sealed class AtomicSaveTests
{
    public sealed class Length
    {
        public int PromptLength { get; set; }
    }

    [TestMethod]
    public void AFailedSaveLeavesThePreviousModelAndNoTemporaryFile()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var generator = ml.Transforms.Text.PeftTextGeneration(tiny.Folder, maxNewTokens: 2, epochs: 1).Fit(data);
        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.SaveAtomically(generator, data.Schema, zip);
        byte[] good = File.ReadAllBytes(zip);
        Assert.IsNotNull(new MLContext().Model.Load(zip, out _), "the atomically saved zip loads");

        // A custom mapping without a contract name cannot be saved: ML.NET throws after our generator was written.
        var unsaveable = new TransformerChain<ITransformer>(generator,
            ml.Transforms.CustomMapping<Question, Length>((q, l) => l.PromptLength = q.Prompt.Length, contractName: null).Fit(data));
        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.SaveAtomically(unsaveable, data.Schema, zip));
        CollectionAssert.AreEqual(good, File.ReadAllBytes(zip), "the previous model is untouched");
        Assert.IsEmpty(Directory.GetFiles(tiny.Folder, "*.tmp"), "no temporary file is left");

        string fresh = Path.Combine(tiny.Folder, "never.zip");
        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.SaveAtomically(unsaveable, data.Schema, fresh));
        Assert.IsFalse(File.Exists(fresh), "a failed first save leaves no file");

        // What the plain Model.Save does with the same failure, which is why SaveAtomically exists.
        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.Save(unsaveable, data.Schema, zip));
        CollectionAssert.AreNotEqual(good, File.ReadAllBytes(zip), "ML.NET's own Save overwrote the good model with a damaged one");

        var missing = Assert.ThrowsExactly<DirectoryNotFoundException>(() =>
            ml.Model.SaveAtomically(generator, data.Schema, Path.Combine(tiny.Folder, "no-such-folder", "model.zip")));
        StringAssert.Contains(missing.Message, "no-such-folder");
    }
}
