using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Runtime;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.MLNet.Tests;

[TestClass]
public sealed class ClassificationPipelineTests
{
    private static IEstimator<ITransformer> Pipeline(MLContext ml, string baseFolder, IPeftConfig? method = null,
        int epochs = 30, float learningRate = 1e-2f) =>
        ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment")
            .Append(ml.MulticlassClassification.Trainers.PeftTextClassification(baseFolder, sentence1ColumnName: "Text",
                method: method, epochs: epochs, batchSize: 8,
                learningRate: learningRate))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedSentiment", "PredictedLabel"));

    private static float[][] Scores(IDataView scored) =>
        scored.GetColumn<float[]>("Score").ToArray();

    private static string[] Predictions(IDataView scored) => scored.GetColumn<string>("PredictedSentiment").ToArray();

    [TestMethod]
    public void FitLearnsTheTaskAndTheOutputIsWhatTheEvaluatorExpects()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var logged = new List<string>();
        ml.Log += (_, e) => { if (e.Source.Contains("PeftTextClassification", StringComparison.Ordinal)) lock (logged) logged.Add(e.Message); };
        var model = Pipeline(ml, tiny.Folder).Fit(data);
        var scored = model.Transform(data);

        var score = scored.Schema["Score"];
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type, "a known-size vector, one value per class");
        var predicted = scored.Schema["PredictedLabel"];
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 3), predicted.Type);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy, $"training accuracy {metrics.MicroAccuracy}");
        foreach (var row in Scores(scored)) Assert.AreEqual(1f, row.Sum(), 1e-5f, "probabilities");
        CollectionAssert.AreEquivalent(new[] { "positive", "negative", "neutral" }, Predictions(scored).Distinct().ToArray(),
            "the predicted keys carry the label's names");
        Assert.IsTrue(logged.Any(m => m.Contains("loss", StringComparison.Ordinal)), "progress reaches MLContext.Log");
    }

    [TestMethod]
    public void SaveThenLoadInANewContextPredictsExactlyTheSame()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var model = Pipeline(ml, tiny.Folder, epochs: 5).Fit(data);
        var before = model.Transform(data);
        var engine = ml.Model.CreatePredictionEngine<Review, ReviewPrediction>(model);
        var one = engine.Predict(new Review { Text = "a superb story" });

        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.Save(model, data.Schema, zip);
        Assert.IsLessThan(2_000_000L, new FileInfo(zip).Length, "the zip carries the adapter, not the base");
        RuntimeCache.Clear(); // as in a new process: the model comes back from the zip alone

        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out var inputSchema);
        Assert.AreEqual(data.Schema.Count, inputSchema.Count);
        var after = loaded.Transform(fresh.Data.LoadFromEnumerable(Reviews.Rows));
        var expected = Scores(before);
        var actual = Scores(after);
        for (int i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"row {i}: identical scores after loading");
        CollectionAssert.AreEqual(Predictions(before), Predictions(after));
        var loadedOne = fresh.Model.CreatePredictionEngine<Review, ReviewPrediction>(loaded).Predict(new Review { Text = "a superb story" });
        Assert.AreEqual(one.PredictedSentiment, loadedOne.PredictedSentiment);
        CollectionAssert.AreEqual(one.Score, loadedOne.Score);
        Assert.AreEqual(ml.MulticlassClassification.Evaluate(before).MicroAccuracy, fresh.MulticlassClassification.Evaluate(after).MicroAccuracy);
    }

    public static IEnumerable<object[]> Methods =>
    [
        ["prompt_tuning"], ["prefix_tuning"], ["p_tuning"], ["lora"], ["ia3"],
    ];

    private static IPeftConfig Method(string name) => name switch
    {
        "prompt_tuning" => new PromptTuningConfig { NumVirtualTokens = 4 },
        "prefix_tuning" => new PrefixTuningConfig { NumVirtualTokens = 4 },
        "p_tuning" => new PTuningConfig { NumVirtualTokens = 4, EncoderHiddenSize = 16 },
        "ia3" => new Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"),
            FeedforwardModules = TargetModules.FromNames("mlp.c_proj"), FanInFanOut = true },
        _ => new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = TargetModules.FromNames("c_attn") },
    };

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void EveryMethodFitsAndRoundTripsThroughModelSave(string method)
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var model = Pipeline(ml, tiny.Folder, Method(method), epochs: 2).Fit(data);
        var before = Scores(model.Transform(data));
        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var loaded = new MLContext().Model.Load(zip, out _);
        var after = Scores(loaded.Transform(data));
        for (int i = 0; i < before.Length; i++) CollectionAssert.AreEqual(before[i], after[i], $"{method} row {i}");
    }

    [TestMethod]
    public void TheFittedAdapterExportsAsAnHfPeftFolderThatLoadsOnTheBase()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(data).Transform(data);
        var fitted = ml.MulticlassClassification.Trainers.PeftTextClassification(tiny.Folder, sentence1ColumnName: "Text", epochs: 2).Fit(keyed);
        CollectionAssert.AreEqual(new[] { "positive", "negative", "neutral" }, fitted.ClassNames.ToArray(), "key order of MapValueToKey (first seen first)");
        string folder = Path.Combine(tiny.Folder, "exported");
        fitted.SaveAdapter(folder);
        using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName))))
        {
            Assert.AreEqual("SEQ_CLS", config.RootElement.GetProperty("task_type").GetString());
            Assert.AreEqual("LORA", config.RootElement.GetProperty("peft_type").GetString());
        }
        var peft = new Peft.Tuners.PeftModels.PeftModel(Peft.Transformers.Loading.ModelLoader.LoadSequenceClassifier(tiny.Folder, numLabels: 3));
        peft.LoadAdapter(folder, "exported");
        var tokenizer = Peft.Tokenizers.Tokenizer.Load(tiny.Folder);
        var ids = tokenizer.Encode("a superb story").Ids;
        float[] logits;
        using (new Peft.Tensors.TensorScope()) logits = peft.Forward(Peft.Tensors.IntTensor.FromArray([.. ids], 1, ids.Count)).Logits.ToArray();
        var expected = fitted.Transform(ml.Data.LoadFromEnumerable(new[] { new Review { Text = "a superb story" } })).GetColumn<float[]>("Score").Single();
        var softmax = logits.Select(l => MathF.Exp(l - logits.Max())).ToArray();
        float sum = softmax.Sum();
        for (int i = 0; i < 3; i++) Assert.AreEqual(expected[i], softmax[i] / sum, 1e-6f,
            $"class {i}: the exported adapter (head included) scores as the transformer does");
    }
}
