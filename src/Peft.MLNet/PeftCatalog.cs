using Microsoft.ML;
using Peft.MLNet.Classification;
using Peft.MLNet.Hosting;
using Peft.Tuners.Adapters;

namespace Peft.MLNet;

/// <summary>Peft.MLNet's trainers on ML.NET's catalogs.</summary>
public static class PeftCatalog
{
    /// <summary>
    /// Fine-tunes a text classifier with a PEFT adapter on a Hugging Face model folder (see
    /// <see cref="PeftTextClassificationTrainer"/>): a key-typed label and one or two text
    /// columns in, <c>Score</c> and <c>PredictedLabel</c> out.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="baseModelFolder">A Hugging Face model folder (config.json, model.safetensors, tokenizer.json).</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">A second text column for sentence-pair tasks, or null.</param>
    /// <param name="method">The PEFT method and its settings (HF PEFT's names); null = LoRA r 8 on PEFT's default layers.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="scoreColumnName">The class-probability column written.</param>
    /// <param name="predictedLabelColumnName">The predicted-class column written.</param>
    public static PeftTextClassificationTrainer PeftTextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string baseModelFolder, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1", string? sentence2ColumnName = null,
        IPeftConfig? method = null, int epochs = 3, int batchSize = 8, float learningRate = 1e-3f, string scoreColumnName = "Score",
        string predictedLabelColumnName = "PredictedLabel") =>
        catalog.PeftTextClassification(new PeftTextClassificationTrainer.Options
        {
            BaseModelFolder = baseModelFolder,
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            Method = method,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
        });

    /// <summary>Fine-tunes a text classifier with a PEFT adapter, every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The settings.</param>
    public static PeftTextClassificationTrainer PeftTextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        PeftTextClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PeftTextClassificationTrainer(MLNetInternals.EnvironmentOf(catalog, "new PeftTextClassificationTrainer(mlContext, options)"), options);
    }
}
