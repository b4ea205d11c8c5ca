// The main job on the embedded default: fine-tune a PEFT (LoRA) adapter inside an ML.NET pipeline
// on a small pretrained base, evaluate before and after on reviews in sentence frames it never saw,
// save the model with mlContext.Model.Save, reload it and predict with a PredictionEngine.
using System.Diagnostics;
using Microsoft.ML;
using MLNetSample;

var clock = Stopwatch.StartNew();
string baseFolder = EmbeddedBase.Ensure();
var mlContext = new MLContext(seed: 1);
mlContext.Log += (_, e) =>
{
    if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.StartsWith("Peft", StringComparison.Ordinal)) Console.WriteLine($"  {e.RawMessage}");
};
var trainData = mlContext.Data.LoadFromEnumerable(Reviews.Train);
var testData = mlContext.Data.LoadFromEnumerable(Reviews.Test);
Console.WriteLine($"{Reviews.Train.Length} training reviews, {Reviews.Test.Length} test reviews in unseen sentence frames; base model {baseFolder}");

// Before: one class for everything is what an untrained classifier can promise.
double majority = Reviews.Test.GroupBy(r => r.Sentiment).Max(g => g.Count()) / (double)Reviews.Test.Length;
Console.WriteLine($"before fine-tuning (majority class): accuracy {majority:P0}");

var model = SentimentModel.Train(mlContext, trainData, baseFolder, SentimentModel.MLNetModelPath);
double accuracy = SentimentModel.Evaluate(mlContext, model, testData, "after fine-tuning");
Console.WriteLine($"saved {SentimentModel.MLNetModelPath} ({new FileInfo(SentimentModel.MLNetModelPath).Length / 1024.0:F0} " +
    $"KB: the adapter and settings, not the base)");

// A fresh context and a lazily created prediction engine over the saved file, as an app does.
foreach (string text in new[] { "the soup was excellent.", "honestly, the show was dreadful.", "it was an ordinary day." })
{
    var prediction = SentimentModel.Predict(new SentimentModel.ModelInput { Text = text });
    Console.WriteLine($"  \"{text}\" -> {prediction.PredictedSentiment} ({prediction.Score.Max():P0})");
}
Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F0} s");
return accuracy > majority ? 0 : 1;
