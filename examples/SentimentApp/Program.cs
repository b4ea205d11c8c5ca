// Serves a model saved by examples/SentimentModel: every argument (or, without arguments, every
// line of standard input) is a review; each gets the predicted sentiment. The model file holds the
// adapter and a reference to the base model folder, which must still be where it was trained (or
// be registered with PeftBaseModels.Register before the first prediction).
using Microsoft.ML;
using Microsoft.ML.Data;

string modelPath = Environment.GetEnvironmentVariable("SENTIMENT_MODEL") ?? "SentimentModel.mlnet";
if (!File.Exists(modelPath))
{
    Console.Error.WriteLine($"error: no model at {Path.GetFullPath(modelPath)}; run examples/SentimentModel first (or set SENTIMENT_MODEL).");
    return 2;
}
if (Environment.GetEnvironmentVariable("SENTIMENT_BASE_MODEL") is { } moved) Peft.MLNet.Runtime.PeftBaseModels.Register(moved);
var mlContext = new MLContext();
var engine = mlContext.Model.CreatePredictionEngine<Review, Prediction>(mlContext.Model.Load(modelPath, out _));
IEnumerable<string> reviews = args.Length > 0 ? args : ReadLines();
foreach (string review in reviews.Where(r => !string.IsNullOrWhiteSpace(r)))
{
    var prediction = engine.Predict(new Review { Text = review });
    Console.WriteLine($"{prediction.PredictedSentiment}\t{prediction.Score.Max():P0}\t{review}");
}
return 0;

static IEnumerable<string> ReadLines()
{
    while (Console.ReadLine() is { } line) yield return line;
}

internal sealed class Review
{
    public string Text { get; set; } = "";

    public string Sentiment { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedSentiment { get; set; } = "";

    public float[] Score { get; set; } = [];
}
