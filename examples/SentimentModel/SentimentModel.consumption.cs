// Model Builder's consumption file: the input and output classes, a lazily created prediction
// engine over the saved model, and Predict.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetSample;

public partial class SentimentModel
{
    /// <summary>One review, as the model reads it.</summary>
    public class ModelInput
    {
        [ColumnName("Text")]
        public string Text { get; set; } = "";

        [ColumnName("Sentiment")]
        public string Sentiment { get; set; } = "";
    }

    /// <summary>What the model answers.</summary>
    public class ModelOutput
    {
        [ColumnName("PredictedSentiment")]
        public string PredictedSentiment { get; set; } = "";

        [ColumnName("Score")]
        public float[] Score { get; set; } = [];
    }

    /// <summary>Where Train writes the model and Predict reads it.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("SentimentModel.mlnet");

    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(), true);

    /// <summary>Predicts the sentiment of one review with the saved model.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }
}
