using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Peft.MLNet.Data;
using Peft.MLNet.Hosting;
using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Tensors.Quantization;
using Peft.Tokenizers;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.MLNet.Classification;

/// <summary>
/// Fine-tunes a text classifier with a PEFT adapter on a Hugging Face model folder: a key-typed
/// label and one or two text columns in; the fitted <see cref="PeftTextClassificationTransformer"/>
/// writes <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (a key with the label's
/// names), as ML.NET's multiclass evaluator expects. Only the adapter trains; the base stays frozen.
/// </summary>
public sealed class PeftTextClassificationTrainer : IEstimator<PeftTextClassificationTransformer>
{
    /// <summary>The task name saved states carry.</summary>
    internal const string TaskName = "text-classification";

    private readonly IHostEnvironment _environment;
    private readonly Options _options;

    /// <summary>Creates the trainer (the catalog's <c>PeftTextClassification</c> does the same).</summary>
    /// <param name="context">The ML.NET context (its log receives progress; cancelling it stops training).</param>
    /// <param name="options">The settings.</param>
    public PeftTextClassificationTrainer(MLContext context, Options options)
        : this(MLNetInternals.EnvironmentOf((context ?? throw new ArgumentNullException(nameof(context))).MulticlassClassification.Trainers,
            "mlContext.MulticlassClassification.Trainers.PeftTextClassification"), options)
    {
    }

    internal PeftTextClassificationTrainer(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        _options = options;
    }

    private ClassificationColumns Columns => new(_options.LabelColumnName, _options.Sentence1ColumnName, _options.Sentence2ColumnName, _options.ScoreColumnName,
        _options.PredictedLabelColumnName);

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        // The fitted chain's own estimators give the shape (SchemaShape's columns cannot be built outside ML.NET).
        return ClassificationChain.Estimator(new MLContext(), Columns, "", ["0", "1"]).GetOutputSchema(inputSchema);
    }

    /// <summary>Trains the adapter on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type (the message names it, the type seen and the type expected).</exception>
    /// <exception cref="InvalidOperationException">No row has a label, or a row cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The context's execution was cancelled.</exception>
    public PeftTextClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = Columns;
        var (_, classNames) = SchemaChecks.RequireKeyLabel(input.Schema, columns.Label);
        SchemaChecks.RequireText(input.Schema, columns.Sentence1, "sentence 1");
        if (columns.Sentence2 is { } second) SchemaChecks.RequireText(input.Schema, second, "sentence 2");
        if (classNames.Length > ScoreChunks.MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(input), $"Label column '{columns.Label}' has {classNames.Length} classes; at most {ScoreChunks.MaxClasses} are supported.");
        if (_options.ValidationSet is { } validation)
        {
            var (_, validationNames) = SchemaChecks.RequireKeyLabel(validation.Schema, columns.Label);
            if (!validationNames.SequenceEqual(classNames))
                throw new ArgumentOutOfRangeException(nameof(input), $"The validation set's label '{columns.Label}' has other classes ({string.Join(", ", validationNames)}) than the training data ({string.Join(", ", classNames)}); map both with the same MapValueToKey transformer.");
        }

        using var host = new PipelineHost(_environment, nameof(PeftTextClassificationTrainer), "Fit");
        var baseModel = BaseModelReference.Of(_options.BaseModelFolder);
        host.Info($"Base model {baseModel.Folder} (SHA-256 {baseModel.Sha256[..12]}…), {classNames.Length} classes.");
        var tokenizer = Tokenizer.Load(baseModel.Folder);
        var classifier = ModelLoader.LoadSequenceClassifier(baseModel.Folder, classNames.Length, new LoadOptions { Quantization = _options.Quantization }, (ulong)_options.Seed);
        var model = new PeftModel(classifier);
        if (_options.InitialAdapterFolder is { } start) model.LoadAdapter(start, ClassifierRuntime.AdapterName, trainable: true);
        else model.AddAdapter(ClassifierRuntime.AdapterName, _options.Method ?? new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = LoraTargetDefaults.For(classifier.Config.Family) }, (ulong)_options.Seed);
        var (trainable, total) = model.CountParameters();
        host.Info($"{model[ClassifierRuntime.AdapterName].Config.PeftType}: {trainable.ToString("N0", CultureInfo.InvariantCulture)} trainable of {total.ToString("N0", CultureInfo.InvariantCulture)} parameters.");

        var settings = new ClassificationSettings(classNames, _options.MaxLength, columns.Sentence2 is not null);
        var runtime = new ClassifierRuntime(model, tokenizer, settings);
        IReadOnlyList<int> Encode(ReadOnlyMemory<char> a, ReadOnlyMemory<char> b) => runtime.Encode(a.Span, b.Span);
        var (rows, unlabeled) = ClassificationRows.Read(input, columns, Encode, host.Token);
        if (unlabeled > 0) host.Warning($"{unlabeled} rows have no label (missing key) and were skipped.");
        if (rows.Count == 0)
            throw new InvalidOperationException($"The training data has no rows with a label in '{columns.Label}'; give at least one labelled row.");
        var evaluation = _options.ValidationSet is { } v ? ClassificationRows.Read(v, columns, Encode, host.Token).Rows : null;
        if (evaluation is { Count: 0 }) evaluation = null;

        var trainer = new Trainer(model, _options.ToTrainerOptions(tokenizer.PadTokenId));
        var progress = new SynchronousProgress<TrainingProgress>(p => host.Info(
            $"epoch {p.Epoch.ToString("F2", CultureInfo.InvariantCulture)} step {p.Step}/{p.TotalSteps} loss {p.Loss.ToString("F4", CultureInfo.InvariantCulture)}" +
            (p.EvaluationLoss is float e ? $" validation loss {e.ToString("F4", CultureInfo.InvariantCulture)}" : "") +
            $" lr {p.LearningRate.ToString("E2", CultureInfo.InvariantCulture)} {p.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture)} tok/s"));
        var result = trainer.Train(rows, evaluation, progress, host.Token);
        host.Info($"Trained {result.Steps} steps; final loss {result.FinalLoss.ToString("F4", CultureInfo.InvariantCulture)}.");

        // Frozen from here on: the same numeric path as a model loaded from the saved state.
        model.SetTrainable(ClassifierRuntime.AdapterName, false);
        model.Training = false;
        var (configJson, weights) = AdapterBytes.Read(model, ClassifierRuntime.AdapterName);
        var state = new ModelState(Guid.NewGuid().ToString("N"), TaskName, baseModel, _options.Quantization, settings.ToJson(), configJson, weights);
        RuntimeCache.Put(state.Id, runtime);
        var chain = ClassificationChain.Estimator(new MLContext(), columns, state.Serialize(), classNames).Fit(input);
        return new PeftTextClassificationTransformer(chain, runtime, columns);
    }

    /// <summary>Reports on the training thread (ML.NET's channels are not thread-bound, but the order of lines should be).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>The trainer's settings, with HF PEFT's names for the method's settings (on <see cref="Method"/>'s config).</summary>
    public sealed class Options
    {
        /// <summary>A Hugging Face model folder: config.json, model.safetensors (or shards), tokenizer.json.</summary>
        public string BaseModelFolder { get; set; } = "";

        /// <summary>Quantize the base's linear layers on load (QLoRA-style: int8 or NF4; the adapter stays float).</summary>
        public QuantizationFormat Quantization { get; set; }

        /// <summary>The PEFT method and its settings (e.g. <c>new LoraConfig { R = 8, TargetModules = ... }</c>, <c>new PromptTuningConfig { NumVirtualTokens = 16 }</c>); null = LoRA r 8, alpha 16 on PEFT's default layers.</summary>
        public IPeftConfig? Method { get; set; }

        /// <summary>An HF PEFT adapter folder to continue training from instead of a fresh adapter (its config replaces <see cref="Method"/>).</summary>
        public string? InitialAdapterFolder { get; set; }

        /// <summary>The key-typed label column.</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>The text column.</summary>
        public string Sentence1ColumnName { get; set; } = "Sentence1";

        /// <summary>A second text column for sentence-pair tasks (joined to the first with a newline), or null.</summary>
        public string? Sentence2ColumnName { get; set; }

        /// <summary>The class-probability column written.</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>The predicted-class column written.</summary>
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

        /// <summary>Passes over the data.</summary>
        public int Epochs { get; set; } = 3;

        /// <summary>Rows per step.</summary>
        public int BatchSize { get; set; } = 8;

        /// <summary>Peak learning rate of AdamW.</summary>
        public float LearningRate { get; set; } = 1e-3f;

        /// <summary>How the learning rate moves after warmup.</summary>
        public LearningRateScheduleKind Schedule { get; set; } = LearningRateScheduleKind.Linear;

        /// <summary>Share of the steps spent warming up the learning rate from 0.</summary>
        public float WarmupRatio { get; set; }

        /// <summary>Micro-batches accumulated per optimizer step.</summary>
        public int GradientAccumulationSteps { get; set; } = 1;

        /// <summary>AdamW's decoupled weight decay.</summary>
        public float WeightDecay { get; set; }

        /// <summary>Tokens kept per row (the rest is cut).</summary>
        public int? MaxLength { get; set; } = 128;

        /// <summary>Rows to compute the validation loss on after each epoch (for early stopping and the best weights).</summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>Stop after this many validations without improvement (needs <see cref="ValidationSet"/>).</summary>
        public int? EarlyStoppingPatience { get; set; }

        /// <summary>Seed of the adapter's initialization and of the shuffling.</summary>
        public int Seed { get; set; } = 1;

        /// <summary>Steps between progress lines in the context's log.</summary>
        public int LogEverySteps { get; set; } = 10;

        internal void Validate()
        {
            if (string.IsNullOrWhiteSpace(BaseModelFolder))
                throw new ArgumentOutOfRangeException(nameof(BaseModelFolder), "Set BaseModelFolder to a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).");
            if (!Directory.Exists(BaseModelFolder))
                throw new ArgumentOutOfRangeException(nameof(BaseModelFolder), $"The base model folder '{BaseModelFolder}' does not exist.");
            if (Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), $"Epochs must be positive; got {Epochs}.");
            if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"BatchSize must be positive; got {BatchSize}.");
            if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"LearningRate must be positive; got {LearningRate}.");
            if (MaxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxLength), $"MaxLength must be positive or null; got {MaxLength}.");
            if (EarlyStoppingPatience is not null && ValidationSet is null)
                throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), "Early stopping needs a ValidationSet to measure.");
        }

        internal TrainerOptions ToTrainerOptions(int? padTokenId) => new()
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Schedule = Schedule,
            WarmupRatio = WarmupRatio,
            GradientAccumulationSteps = GradientAccumulationSteps,
            WeightDecay = WeightDecay,
            MaxLength = MaxLength,
            EarlyStoppingPatience = EarlyStoppingPatience,
            LoadBestAtEnd = EarlyStoppingPatience is not null,
            Seed = (ulong)Seed,
            LogEverySteps = LogEverySteps,
            PadTokenId = padTokenId,
        };
    }
}
