using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Tests;

/// <summary>Our transformers inside an EstimatorChain with ML.NET's own transforms before and after them, saved and loaded whole.</summary>
[TestClass]
[DoNotParallelize]
public sealed class PipelineCompositionTests
{
    /// <summary>Rows under other column names than the trainer reads, so ML.NET's transforms must bring them in.</summary>
    public sealed class RawReview
    {
        public string Review { get; set; } = "";

        public string Sentiment { get; set; } = "";
    }

    public sealed class Scored
    {
        public string Verdict { get; set; } = "";

        [VectorType(6)]
        public float[] BothScores { get; set; } = [];
    }

    [TestMethod]
    public void AClassifierBetweenMLNetTransformsFitsEvaluatesAndRoundTrips()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows.Select(r => new RawReview { Review = r.Text.ToUpperInvariant(), Sentiment = r.Sentiment }));
        var pipeline = ml.Transforms.Text.NormalizeText("Lowered", "Review", TextNormalizingEstimator.CaseMode.Lower)
            .Append(ml.Transforms.CopyColumns("Text", "Lowered"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment"))
            .Append(ml.MulticlassClassification.Trainers.PeftTextClassification(tiny.Folder, sentence1ColumnName: "Text", epochs: 30, batchSize: 8,
                learningRate: 1e-2f))
            .Append(ml.Transforms.Conversion.MapKeyToValue("Verdict", "PredictedLabel"))
            .Append(ml.Transforms.Concatenate("BothScores", "Score", "Score"));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        Assert.IsGreaterThanOrEqualTo(0.9, ml.MulticlassClassification.Evaluate(scored).MicroAccuracy, "the normalized text reached the classifier");
        var verdicts = scored.GetColumn<string>("Verdict").ToArray();
        var both = scored.GetColumn<float[]>("BothScores").ToArray();
        CollectionAssert.AreEqual(both[0][..3], both[0][3..], "Concatenate read our Score vector");

        string zip = Path.Combine(tiny.Folder, "composed.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out var schema);
        Assert.AreEqual("Review", schema[0].Name, "the saved input schema is the raw rows'");
        var reloaded = loaded.Transform(data);
        CollectionAssert.AreEqual(verdicts, reloaded.GetColumn<string>("Verdict").ToArray());
        var bothAgain = reloaded.GetColumn<float[]>("BothScores").ToArray();
        for (int i = 0; i < both.Length; i++) CollectionAssert.AreEqual(both[i], bothAgain[i], $"row {i}");
        var engine = fresh.Model.CreatePredictionEngine<RawReview, Scored>(loaded);
        Assert.AreEqual(verdicts[0], engine.Predict(new RawReview { Review = Reviews.Rows[0].Text.ToUpperInvariant() }).Verdict);
    }

    [TestMethod]
    public void AGeneratorBetweenMLNetTransformsRoundTrips()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var pipeline = ml.Transforms.CopyColumns("Question", "Prompt")
            .Append(ml.Transforms.Text.PeftTextGeneration(tiny.Folder, promptColumnName: "Question", completionColumnName: "Completion", maxNewTokens: 6,
                epochs: 3))
            .Append(ml.Transforms.CopyColumns("Answer", "GeneratedText"))
            .Append(ml.Transforms.DropColumns("GeneratedText"));
        var model = pipeline.Fit(data);
        var answers = model.Transform(data).GetColumn<string>("Answer").ToArray();
        Assert.AreEqual(Colours.Rows.Length, answers.Length);

        string zip = Path.Combine(tiny.Folder, "generator.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var loaded = new MLContext().Model.Load(zip, out _);
        CollectionAssert.AreEqual(answers, loaded.Transform(data).GetColumn<string>("Answer").ToArray());
    }
}
