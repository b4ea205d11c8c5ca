using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Tests;

[TestClass]
public sealed class BinaryClassificationTests
{
    public sealed class Opinion
    {
        public string Text { get; set; } = "";

        public bool Label { get; set; }
    }

    public sealed class OpinionPrediction
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }

        public float Score { get; set; }
    }

    private static Opinion[] Rows =>
        [.. Reviews.Rows.Where(r => r.Sentiment != "neutral").Select(r => new Opinion { Text = r.Text, Label = r.Sentiment == "positive" })];

    [TestMethod]
    public void ABooleanLabelGivesTheColumnsTheBinaryEvaluatorReadsAndRoundTrips()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        var model = ml.BinaryClassification.Trainers.PeftTextClassification(tiny.Folder, sentence1ColumnName: "Text", epochs: 20, learningRate: 1e-2f)
            .Fit(data);
        var scored = model.Transform(data);
        Assert.AreEqual(BooleanDataViewType.Instance, scored.Schema["PredictedLabel"].Type);
        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Probability"].Type);
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.Accuracy, $"accuracy {metrics.Accuracy}");
        var probabilities = scored.GetColumn<float>("Probability").ToArray();
        var scores = scored.GetColumn<float>("Score").ToArray();
        for (int i = 0; i < scores.Length; i++)
            Assert.AreEqual(probabilities[i], 1f / (1f + MathF.Exp(-scores[i])), 1e-5f, "the score is the log-odds of the probability");

        var one = ml.Model.CreatePredictionEngine<Opinion, OpinionPrediction>(model).Predict(new Opinion { Text = "a superb story" });
        string zip = Path.Combine(tiny.Folder, "binary.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var loaded = new MLContext().Model.Load(zip, out _);
        CollectionAssert.AreEqual(probabilities, loaded.Transform(data).GetColumn<float>("Probability").ToArray());
        var again = new MLContext().Model.CreatePredictionEngine<Opinion, OpinionPrediction>(loaded).Predict(new Opinion { Text = "a superb story" });
        Assert.AreEqual(one.Probability, again.Probability);
        Assert.AreEqual(one.PredictedLabel, again.PredictedLabel);
    }

    [TestMethod]
    public void AKeyLabelIsRefusedWithTheWayToTheMulticlassTrainer()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(data).Transform(data);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.BinaryClassification.Trainers.PeftTextClassification(tiny.Folder, sentence1ColumnName: "Text").Fit(keyed));
        StringAssert.Contains(ex.Message, "expected Boolean");
        StringAssert.Contains(ex.Message, "MulticlassClassification");
    }
}
