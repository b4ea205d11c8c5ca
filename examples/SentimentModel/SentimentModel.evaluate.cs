// The evaluation step: ML.NET's multiclass metrics on data the model did not train on.
using Microsoft.ML;

namespace MLNetSample;

public partial class SentimentModel
{
    /// <summary>Prints accuracy and log-loss of <paramref name="model"/> on <paramref name="testData"/>; returns the micro accuracy.</summary>
    public static double Evaluate(MLContext mlContext, ITransformer model, IDataView testData, string title)
    {
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(testData));
        Console.WriteLine($"{title}: accuracy {metrics.MicroAccuracy:P0} (macro {metrics.MacroAccuracy:P0}), log-loss {metrics.LogLoss:F3}");
        return metrics.MicroAccuracy;
    }
}
