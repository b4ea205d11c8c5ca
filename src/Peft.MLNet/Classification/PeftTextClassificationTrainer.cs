using Microsoft.ML;
using Microsoft.ML.Runtime;
using Peft.MLNet.Data;
using Peft.MLNet.Hosting;
using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Transformers.Loading;
using Peft.MLNet.Training;

namespace Peft.MLNet.Classification;

/// <summary>
/// Fine-tunes a text classifier with a PEFT adapter on a Hugging Face model folder: a key-typed
/// label and one or two text columns in; the fitted <see cref="PeftTextClassificationTransformer"/>
/// writes <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (a key with the label's
/// names), as ML.NET's multiclass evaluator expects. Made by the binary catalog, it takes a
/// Boolean label and writes <c>Score</c> (log-odds), <c>Probability</c> and a Boolean
/// <c>PredictedLabel</c>, as the binary evaluator expects. Only the adapter trains; the base stays frozen.
/// </summary>
public sealed class PeftTextClassificationTrainer : IEstimator<PeftTextClassificationTransformer>
{
    /// <summary>The task name saved states carry.</summary>
    internal const string TaskName = "text-classification";

    private readonly IHostEnvironment _environment;
    private readonly Options _options;
    private readonly bool _binary;

    /// <summary>Creates the trainer (the catalog's <c>PeftTextClassification</c> does the same).</summary>
    /// <param name="context">The ML.NET context (its log receives progress; cancelling it stops training).</param>
    /// <param name="options">The settings.</param>
    public PeftTextClassificationTrainer(MLContext context, Options options)
        : this(MLNetInternals.EnvironmentOf((context ?? throw new ArgumentNullException(nameof(context))).MulticlassClassification.Trainers,
            "mlContext.MulticlassClassification.Trainers.PeftTextClassification"), options)
    {
    }

    /// <param name="environment">The context's environment.</param>
    /// <param name="options">The settings.</param>
    /// <param name="binary">A Boolean label and ML.NET's binary output columns (Score, Probability, PredictedLabel as Boolean).</param>
    internal PeftTextClassificationTrainer(IHostEnvironment environment, Options options, bool binary = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        _options = options;
        _binary = binary;
    }

    private ClassificationColumns Columns => new(_options.LabelColumnName, _options.Sentence1ColumnName, _options.Sentence2ColumnName, _options.ScoreColumnName,
        _options.PredictedLabelColumnName, _options.TaskIdColumnName);

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        // The fitted chain's own estimators give the shape (SchemaShape's columns cannot be built outside ML.NET).
        return Chain(new MLContext(), Columns, "", ["0", "1"]).GetOutputSchema(inputSchema);
    }

    /// <summary>Trains the adapter on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A column is missing or of the wrong type (the message names it, the type seen and the type expected).
    /// </exception>
    /// <exception cref="InvalidOperationException">No row has a label, or a row cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The context's execution was cancelled.</exception>
    public PeftTextClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = Columns;
        string[] classNames = _binary ? [bool.FalseString, bool.TrueString] : SchemaChecks.RequireKeyLabel(input.Schema, columns.Label).ClassNames;
        if (_binary) SchemaChecks.RequireBoolLabel(input.Schema, columns.Label);
        SchemaChecks.RequireText(input.Schema, columns.Sentence1, "sentence 1");
        if (columns.Sentence2 is { } second) SchemaChecks.RequireText(input.Schema, second, "sentence 2");
        if (classNames.Length > ScoreChunks.MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Label column '{columns.Label}' has {classNames.Length} classes; at most {ScoreChunks.MaxClasses} are supported.");
        if (_options.ValidationSet is { } binaryValidation && _binary) SchemaChecks.RequireBoolLabel(binaryValidation.Schema, columns.Label);
        else if (_options.ValidationSet is { } validation)
        {
            var (_, validationNames) = SchemaChecks.RequireKeyLabel(validation.Schema, columns.Label);
            if (!validationNames.SequenceEqual(classNames))
                throw new ArgumentOutOfRangeException(nameof(input),
                    $"The validation set's label '{columns.Label}' has other classes ({string.Join(", ", validationNames)}) " +
                    $"than the training data ({string.Join(", ", classNames)}); " +
                    "map both with the same MapValueToKey transformer.");
        }

        using var host = new PipelineHost(_environment, nameof(PeftTextClassificationTrainer), "Fit");
        var (model, tokenizer, baseModel, suppliedTokenizer) = AdapterFit.Prepare(_options, host,
            (folder, load) => ModelLoader.LoadSequenceClassifier(folder, classNames.Length, load, (ulong)_options.Seed));
        SchemaChecks.RequireTaskIdsWhereNeeded(input.Schema, columns.TaskId, model.NeedsTaskIds);
        if (_options.ValidationSet is { } validationData) SchemaChecks.RequireTaskIdsWhereNeeded(validationData.Schema, columns.TaskId, model.NeedsTaskIds);
        var settings = new ClassificationSettings(classNames, _options.MaxLength, columns.Sentence2 is not null, _binary);
        var runtime = new ClassifierRuntime(model, tokenizer, settings);
        IReadOnlyList<int> Encode(ReadOnlyMemory<char> a, ReadOnlyMemory<char> b) => runtime.Encode(a.Span, b.Span);
        var format = new ClassificationRowFormat(columns, Encode);
        var rows = new DataViewTrainingData(input, format, _options.ShuffleBufferSize, host.Token);
        if (rows.Skipped > 0) host.Warning($"{rows.Skipped} rows have no label (missing key) and were skipped.");
        if (rows.Count == 0)
            throw new InvalidOperationException($"The training data has no rows with a label in '{columns.Label}'; give at least one labelled row.");
        var evaluation = _options.ValidationSet is { } v ? new DataViewTrainingData(v, format, _options.ShuffleBufferSize, host.Token) : null;
        AdapterFit.Train(model, tokenizer, rows, evaluation, _options, host);

        var (configJson, weights) = AdapterFit.Freeze(model);
        var state = new ModelState(Guid.NewGuid().ToString("N"), TaskName, baseModel, _options.Quantization, settings.ToJson(), configJson, weights,
            SuppliedTokenizer: suppliedTokenizer);
        RuntimeCache.Put(state.Id, runtime);
        var chain = Chain(new MLContext(), columns, state.Serialize(), classNames).Fit(input);
        return new PeftTextClassificationTransformer(chain, runtime, columns);
    }

    private IEstimator<ITransformer> Chain(MLContext context, ClassificationColumns columns, string state, IReadOnlyList<string> classNames) => _binary
        ? ClassificationChain.BinaryEstimator(context, columns, state, _options.ProbabilityColumnName)
        : ClassificationChain.Estimator(context, columns, state, classNames);

    /// <summary>The classification trainer's settings: the columns, besides what every PEFT trainer takes.</summary>
    public sealed class Options : PeftTrainingOptions
    {
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

        /// <summary>The probability-of-true column a binary classifier writes.</summary>
        public string ProbabilityColumnName { get; set; } = "Probability";
    }
}
