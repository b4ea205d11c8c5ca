using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Generation;
using Peft.MLNet.Runtime;
using Peft.Transformers.Generation;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.MLNet.Tests;

[TestClass]
public sealed class GenerationPipelineTests
{
    private static readonly LoraConfig EveryLinear = new() { R = 16, LoraAlpha = 32, TargetModules = TargetModules.FromNames("c_attn", "c_fc", "c_proj") };

    private static string[] Generated(IDataView scored) => scored.GetColumn<string>("GeneratedText").ToArray();

    [TestMethod]
    public void FitLearnsTheCompletionsAndSaveLoadGeneratesTheSame()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var model = ml.Transforms.Text.PeftTextGeneration(tiny.Folder, method: EveryLinear, maxNewTokens: 8,
            epochs: 150, batchSize: 6, learningRate: 1e-2f).Fit(data);
        var generated = Generated(model.Transform(data));
        int right = Colours.Rows.Zip(generated).Count(p => p.Second.StartsWith(p.First.Completion, StringComparison.Ordinal));
        Assert.IsGreaterThanOrEqualTo(5, right, string.Join(" | ", generated));

        var engine = ml.Model.CreatePredictionEngine<Question, Answer>(model);
        Assert.AreEqual(generated[0], engine.Predict(Colours.Rows[0]).GeneratedText, "the prediction engine generates what Transform does");
        Assert.AreEqual(generated[0], model.Generate(Colours.Rows[0].Prompt));

        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out _);
        CollectionAssert.AreEqual(generated, Generated(loaded.Transform(data)), "identical text after loading");
        Assert.AreEqual(generated[1], fresh.Model.CreatePredictionEngine<Question, Answer>(loaded).Predict(Colours.Rows[1]).GeneratedText);
    }

    [TestMethod]
    public void GenerationSettingsChangeOnTheFittedTransformerAndAreSavedWithIt()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var model = ml.Transforms.Text.PeftTextGeneration(tiny.Folder, maxNewTokens: 6, epochs: 2).Fit(data);
        var shorter = model.WithGeneration(new GenerationOptions { MaxNewTokens = 2, EosTokenIds = [] });
        var sampled = model.WithGeneration(new GenerationOptions { MaxNewTokens = 6, DoSample = true, Temperature = 1.5f, Seed = 3, EosTokenIds = [] });
        var longText = Generated(model.Transform(data));
        var shortText = Generated(shorter.Transform(data));
        Assert.IsTrue(shortText.All(t => System.Text.Encoding.UTF8.GetByteCount(t) <= 2), string.Join(" | ", shortText));
        Assert.AreEqual(6, model.Generation.MaxNewTokens, "the original keeps its settings");
        var sample = Generated(sampled.Transform(data));
        CollectionAssert.AreEqual(sample, Generated(sampled.Transform(data)), "a seeded sample repeats");

        string zip = Path.Combine(tiny.Folder, "sampled.zip");
        ml.Model.Save(sampled, data.Schema, zip);
        RuntimeCache.Clear();
        CollectionAssert.AreEqual(sample, Generated(new MLContext().Model.Load(zip, out _).Transform(data)), "the sampling settings were saved");
        Assert.AreNotEqual(string.Join("|", longText), string.Join("|", sample), "sampling at temperature 1.5 differs from greedy");
    }

    public static IEnumerable<object[]> Methods => [["lora"], ["prompt_tuning"], ["prefix_tuning"]];

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void SequenceToSequenceOnT5RoundTrips(string method)
    {
        using var tiny = TinyBase.Create("t5");
        var ml = new MLContext(seed: 1);
        var rows = Colours.Rows.Select(r => new SourceTarget { Source = r.Prompt, Target = r.Completion }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        IPeftConfig config = method switch
        {
            "prompt_tuning" => new PromptTuningConfig { NumVirtualTokens = 4 },
            "prefix_tuning" => new PrefixTuningConfig { NumVirtualTokens = 4 },
            _ => new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("q", "v") },
        };
        var model = ml.Transforms.Text.PeftSequenceToSequence(tiny.Folder, method: config, maxNewTokens: 5, epochs: 3).Fit(data);
        var before = Generated(model.Transform(data));
        CollectionAssert.AreEqual(before, Generated(model.WithTransformBatchSize(1).Transform(data)), $"{method}: batched T5 rows generate what they do alone");
        string zip = Path.Combine(tiny.Folder, "t5.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        CollectionAssert.AreEqual(before, Generated(new MLContext().Model.Load(zip, out _).Transform(data)), method);
    }

    public static IEnumerable<object[]> CausalMethods => [["lora"], ["prompt_tuning"], ["prefix_tuning"], ["ptuning"], ["ia3"]];

    [TestMethod]
    [DynamicData(nameof(CausalMethods))]
    public void TransformGeneratesInBatchesAndEachRowIsWhatItGetsAlone(string method)
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        IPeftConfig config = method switch
        {
            "prompt_tuning" => new PromptTuningConfig { NumVirtualTokens = 4 },
            "prefix_tuning" => new PrefixTuningConfig { NumVirtualTokens = 4 },
            "ptuning" => new Tuners.PTuning.PTuningConfig { NumVirtualTokens = 4, EncoderHiddenSize = 16 },
            "ia3" => new Tuners.Ia3.Ia3Config
            {
                TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"),
                FeedforwardModules = TargetModules.FromNames("mlp.c_proj"),
                FanInFanOut = true,
            },
            _ => EveryLinear,
        };
        var model = ml.Transforms.Text.PeftTextGeneration(new PeftTextGenerationTrainer.Options
        {
            BaseModelFolder = tiny.Folder,
            PromptColumnName = "Prompt",
            CompletionColumnName = "Completion",
            Method = config,
            Epochs = 20,
            BatchSize = 6,
            LearningRate = 1e-2f,
            TransformBatchSize = 4,
            Generation = new GenerationOptions { MaxNewTokens = 8 },
        }).Fit(data);

        int passes = model.GenerationPasses;
        var batched = Generated(model.Transform(data));
        Assert.AreEqual(2, model.GenerationPasses - passes, "six rows in batches of four: two passes");
        // Batch size 1 is the saved chain's row-by-row path (its runtime comes from the process-wide cache).
        var alone = Generated(model.WithTransformBatchSize(1).Transform(data));
        CollectionAssert.AreEqual(alone, batched, $"{method}: a batched row (left-padded, shared cache) generates what it does alone");
        var engine = ml.Model.CreatePredictionEngine<Question, Answer>(model);
        CollectionAssert.AreEqual(alone, Colours.Rows.Select(r => engine.Predict(r).GeneratedText).ToArray(), "the prediction engine agrees");
        // A cursor that skips the generated column generates nothing; one that reads some rows generates their batch only.
        passes = model.GenerationPasses;
        Assert.AreEqual(6, model.Transform(data).GetColumn<string>("Prompt").Count());
        Assert.AreEqual(alone[0], Generated(model.Transform(data))[0]);
        using (var cursor = model.Transform(data).GetRowCursor(model.Transform(data).Schema))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema["GeneratedText"]);
            ReadOnlyMemory<char> text = default;
            Assert.IsTrue(cursor.MoveNext() && cursor.MoveNext());
            getter(ref text);
            Assert.AreEqual(alone[1], text.ToString(), "a row read on its own still gets its text");
        }
        Assert.AreEqual(2 + 1, model.GenerationPasses - passes, "reading no generated text runs nothing; reading one row runs its batch");
    }

    [TestMethod]
    public void ColumnsThatAreNotTextAreNamed()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.PeftTextGeneration(tiny.Folder, completionColumnName: "Answer").Fit(data));
        StringAssert.Contains(ex.Message, "'Answer'");
        StringAssert.Contains(ex.Message, "completion");
    }

    public sealed class SourceTarget
    {
        public string Source { get; set; } = "";

        public string Target { get; set; } = "";
    }
}
