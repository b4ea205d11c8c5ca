// Model Builder's training file: the pipeline, retraining on data, and saving.
using Microsoft.ML;
using Peft.MLNet;
using Peft.MLNet.Classification;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;

namespace MLNetSample;

public partial class SentimentModel
{
    /// <summary>Trains on <paramref name="trainData"/> and saves the model to <paramref name="outputModelPath"/>.</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainData, string baseModelFolder, string outputModelPath)
    {
        var model = RetrainModel(mlContext, trainData, baseModelFolder);
        mlContext.Model.Save(model, trainData.Schema, outputModelPath);
        return model;
    }

    /// <summary>Fits the pipeline on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, string baseModelFolder) =>
        BuildPipeline(mlContext, baseModelFolder).Fit(trainData);

    /// <summary>
    /// Sentiment as a key, a LoRA adapter on the base's attention and feed-forward layers trained
    /// to classify the text, and the predicted key back to its name.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, string baseModelFolder) =>
        mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: "Label", inputColumnName: "Sentiment")
            .Append(mlContext.MulticlassClassification.Trainers.PeftTextClassification(new PeftTextClassificationTrainer.Options
            {
                BaseModelFolder = baseModelFolder,
                LabelColumnName = "Label",
                Sentence1ColumnName = "Text",
                Method = new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc") },
                Epochs = 12,
                BatchSize = 8,
                LearningRate = 5e-3f,
                WarmupRatio = 0.1f,
                MaxLength = 64,
                LogEverySteps = 20,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: "PredictedSentiment", inputColumnName: "PredictedLabel"));
}
