using Microsoft.ML;
using Peft.MLNet.Classification;
using Peft.MLNet.Generation;
using Peft.MLNet.Hosting;
using Peft.Transformers.Generation;
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

    /// <summary>
    /// Fine-tunes a decoder-only model (GPT-2, Llama, Qwen2, Mistral) with a PEFT adapter to
    /// continue a prompt with its completion (see <see cref="PeftTextGenerationTrainer"/>); the fitted
    /// transformer writes the generated text.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="baseModelFolder">A Hugging Face model folder (config.json, model.safetensors, tokenizer.json).</param>
    /// <param name="promptColumnName">The prompt column.</param>
    /// <param name="completionColumnName">The completion column (training only).</param>
    /// <param name="outputColumnName">The generated-text column written.</param>
    /// <param name="method">The PEFT method and its settings (HF PEFT's names); null = LoRA r 8 on PEFT's default layers.</param>
    /// <param name="maxNewTokens">Tokens generated at most per row (greedy; other settings in the options overload).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    public static PeftTextGenerationTrainer PeftTextGeneration(this TransformsCatalog.TextTransforms catalog, string baseModelFolder,
        string promptColumnName = "Prompt", string completionColumnName = "Completion", string outputColumnName = "GeneratedText", IPeftConfig? method = null,
        int maxNewTokens = 32, int epochs = 3, int batchSize = 8, float learningRate = 1e-3f) =>
        catalog.PeftTextGeneration(new PeftTextGenerationTrainer.Options
        {
            BaseModelFolder = baseModelFolder,
            PromptColumnName = promptColumnName,
            CompletionColumnName = completionColumnName,
            OutputColumnName = outputColumnName,
            Method = method,
            Generation = new GenerationOptions { MaxNewTokens = maxNewTokens },
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        });

    /// <summary>
    /// Fine-tunes an encoder-decoder model (T5) with a PEFT adapter to turn a source text into its
    /// target; the same trainer as
    /// <see cref="PeftTextGeneration(TransformsCatalog.TextTransforms, string, string, string, string, IPeftConfig?, int, int, int, float)"/>
    /// with sequence-to-sequence column names.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="baseModelFolder">A Hugging Face T5 model folder (config.json, model.safetensors, tokenizer.json).</param>
    /// <param name="sourceColumnName">The source column.</param>
    /// <param name="targetColumnName">The target column (training only).</param>
    /// <param name="outputColumnName">The generated-text column written.</param>
    /// <param name="method">The PEFT method and its settings (HF PEFT's names); null = LoRA r 8 on PEFT's default layers.</param>
    /// <param name="maxNewTokens">Tokens generated at most per row (greedy; other settings in the options overload).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    public static PeftTextGenerationTrainer PeftSequenceToSequence(this TransformsCatalog.TextTransforms catalog, string baseModelFolder,
        string sourceColumnName = "Source", string targetColumnName = "Target", string outputColumnName = "GeneratedText", IPeftConfig? method = null,
        int maxNewTokens = 32, int epochs = 3, int batchSize = 8, float learningRate = 1e-3f) =>
        catalog.PeftTextGeneration(baseModelFolder, sourceColumnName, targetColumnName, outputColumnName, method,
            maxNewTokens, epochs, batchSize, learningRate);

    /// <summary>Fine-tunes a generator with a PEFT adapter, every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="options">The settings.</param>
    public static PeftTextGenerationTrainer PeftTextGeneration(this TransformsCatalog.TextTransforms catalog, PeftTextGenerationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PeftTextGenerationTrainer(MLNetInternals.EnvironmentOf(catalog, "new PeftTextGenerationTrainer(mlContext, options)"), options);
    }

    /// <summary>
    /// Fine-tunes a binary text classifier with a PEFT adapter (see <see cref="PeftTextClassificationTrainer"/>):
    /// a Boolean label and one or two text columns in; <c>Score</c> (log-odds of true),
    /// <c>Probability</c> and a Boolean <c>PredictedLabel</c> out, as ML.NET's binary evaluator expects.
    /// </summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="baseModelFolder">A Hugging Face model folder (config.json, model.safetensors, tokenizer.json).</param>
    /// <param name="labelColumnName">The Boolean label column.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">A second text column for sentence-pair tasks, or null.</param>
    /// <param name="method">The PEFT method and its settings (HF PEFT's names); null = LoRA r 8 on PEFT's default layers.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    public static PeftTextClassificationTrainer PeftTextClassification(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string baseModelFolder, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1", string? sentence2ColumnName = null,
        IPeftConfig? method = null, int epochs = 3, int batchSize = 8, float learningRate = 1e-3f) =>
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
        });

    /// <summary>Fine-tunes a binary text classifier with a PEFT adapter, every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="options">The settings.</param>
    public static PeftTextClassificationTrainer PeftTextClassification(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        PeftTextClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PeftTextClassificationTrainer(MLNetInternals.EnvironmentOf(catalog, "the multiclass trainer with a key label"), options, binary: true);
    }
}
