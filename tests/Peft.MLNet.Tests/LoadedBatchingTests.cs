using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Generation;
using Peft.MLNet.Runtime;
using Peft.Transformers.Generation;
using Peft.Tuners.PrefixTuning;

namespace Peft.MLNet.Tests;

[TestClass]
public sealed class LoadedBatchingTests
{
    private static string[] Generated(IDataView scored) => scored.GetColumn<string>("GeneratedText").ToArray();

    [TestMethod]
    public void ALoadedChainRebuiltWithBatchedGenerationGeneratesTheSameInBatchesAndSavesTheSameModel()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        // The generator inside a chain, reading a column an ML.NET transform made, so the rebuild must track the schema.
        var pipeline = ml.Transforms.CopyColumns("Question", "Prompt")
            .Append(ml.Transforms.Text.PeftTextGeneration(new PeftTextGenerationTrainer.Options
            {
                BaseModelFolder = tiny.Folder,
                PromptColumnName = "Question",
                Method = new PrefixTuningConfig { NumVirtualTokens = 4 },
                Epochs = 20,
                BatchSize = 6,
                LearningRate = 1e-2f,
                Generation = new GenerationOptions { MaxNewTokens = 8 },
            }));
        var fitted = pipeline.Fit(data);
        var expected = Generated(fitted.Transform(data));
        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.Save(fitted, data.Schema, zip);
        RuntimeCache.Clear();

        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out var schema);
        var rebuilt = loaded.WithBatchedGeneration(schema, transformBatchSize: 4);
        Assert.AreNotSame(loaded, rebuilt);
        var generator = ((IEnumerable<ITransformer>)rebuilt).OfType<PeftTextGenerationTransformer>().Single();
        Assert.AreEqual(4, generator.TransformBatchSize);
        Assert.AreEqual(2, ((IEnumerable<ITransformer>)rebuilt).Count(), "the copy, kept, and the generator, rebuilt");

        int passes = generator.GenerationPasses;
        CollectionAssert.AreEqual(expected, Generated(rebuilt.Transform(data)), "the rebuilt generator generates what the fitted one did");
        Assert.AreEqual(2, generator.GenerationPasses - passes, "six rows in batches of four: two passes, not six");
        CollectionAssert.AreEqual(expected, Generated(loaded.Transform(data)), "the loaded chain, row by row, agrees");
        Assert.AreEqual(expected[2], fresh.Model.CreatePredictionEngine<Question, Answer>(rebuilt).Predict(Colours.Rows[2]).GeneratedText);

        string again = Path.Combine(tiny.Folder, "again.zip");
        fresh.Model.Save(rebuilt, schema, again);
        RuntimeCache.Clear();
        CollectionAssert.AreEqual(expected, Generated(new MLContext().Model.Load(again, out _).Transform(data)), "saving the rebuilt model keeps it");
    }

    [TestMethod]
    public void AModelWithoutAGeneratorIsReturnedAsItIsAndABadBatchSizeIsRefused()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var copy = ml.Transforms.CopyColumns("Question", "Prompt").Fit(data);
        Assert.AreSame(copy, copy.WithBatchedGeneration(data.Schema));
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => copy.WithBatchedGeneration(data.Schema, 0));
        StringAssert.Contains(ex.Message, "positive");
    }
}
