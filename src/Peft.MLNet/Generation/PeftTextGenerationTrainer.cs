using Microsoft.ML;
using Microsoft.ML.Runtime;
using Peft.MLNet.Data;
using Peft.MLNet.Hosting;
using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.MLNet.Training;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.MLNet.Generation;

/// <summary>
/// Fine-tunes a generator with a PEFT adapter on a Hugging Face model folder: a decoder-only model
/// (GPT-2, Llama, Qwen2, Mistral) learns to continue a prompt with its completion; an
/// encoder-decoder model (T5) learns to turn a source into its target. The fitted
/// <see cref="PeftTextGenerationTransformer"/> writes the generated text (key/value-cached
/// generation, greedy or sampled).
/// </summary>
public sealed class PeftTextGenerationTrainer : IEstimator<PeftTextGenerationTransformer>
{
    /// <summary>The task name saved states carry.</summary>
    internal const string TaskName = "text-generation";

    private readonly IHostEnvironment _environment;
    private readonly Options _options;

    /// <summary>Creates the trainer (the catalog's <c>PeftTextGeneration</c> and <c>PeftSequenceToSequence</c> do the same).</summary>
    /// <param name="context">The ML.NET context (its log receives progress; cancelling it stops training).</param>
    /// <param name="options">The settings.</param>
    public PeftTextGenerationTrainer(MLContext context, Options options)
        : this(MLNetInternals.EnvironmentOf((context ?? throw new ArgumentNullException(nameof(context))).Transforms.Text,
            "mlContext.Transforms.Text.PeftTextGeneration"), options)
    {
    }

    internal PeftTextGenerationTrainer(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        _options = options;
    }

    private GenerationColumns Columns => new(_options.PromptColumnName, _options.CompletionColumnName, _options.OutputColumnName,
        _options.TaskIdColumnName);

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return GenerationChain.Estimator(new MLContext(), Columns, "").GetOutputSchema(inputSchema);
    }

    /// <summary>Trains the adapter on <paramref name="input"/>'s prompt and completion columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text (the message names it, the type seen and the type expected).</exception>
    /// <exception cref="InvalidOperationException">The data has no rows, or a row cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The context's execution was cancelled.</exception>
    public PeftTextGenerationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = Columns;
        SchemaChecks.RequireText(input.Schema, columns.Prompt, "prompt");
        SchemaChecks.RequireText(input.Schema, columns.Completion, "completion");
        if (_options.ValidationSet is { } validation)
        {
            SchemaChecks.RequireText(validation.Schema, columns.Prompt, "prompt");
            SchemaChecks.RequireText(validation.Schema, columns.Completion, "completion");
        }

        using var host = new PipelineHost(_environment, nameof(PeftTextGenerationTrainer), "Fit");
        var (model, tokenizer, baseModel, suppliedTokenizer) = AdapterFit.Prepare(_options, host, (folder, load) => ModelConfig.Load(folder).IsEncoderDecoder
            ? ModelLoader.LoadSeq2Seq(folder, load)
            : ModelLoader.LoadCausal(folder, load));
        SchemaChecks.RequireTaskIdsWhereNeeded(input.Schema, columns.TaskId, model.NeedsTaskIds);
        if (_options.ValidationSet is { } validationData) SchemaChecks.RequireTaskIdsWhereNeeded(validationData.Schema, columns.TaskId, model.NeedsTaskIds);
        var runtime = new GenerationRuntime(model, tokenizer, new TextGenerationSettings(_options.MaxLength, _options.Generation));
        var format = new GenerationRowFormat(columns, (prompt, completion) => runtime.TrainingExample(prompt.Span, completion.Span));
        var rows = new DataViewTrainingData(input, format, _options.ShuffleBufferSize, host.Token);
        if (rows.Count == 0) throw new InvalidOperationException("The training data has no rows; give at least one prompt and completion.");
        var evaluation = _options.ValidationSet is { } v ? new DataViewTrainingData(v, format, _options.ShuffleBufferSize, host.Token) : null;
        AdapterFit.Train(model, tokenizer, rows, evaluation, _options, host);

        var (configJson, weights) = AdapterFit.Freeze(model);
        var state = new ModelState(Guid.NewGuid().ToString("N"), TaskName, baseModel, _options.Quantization, runtime.Settings.ToJson(), configJson, weights,
            columns.ToJson(), suppliedTokenizer);
        return PeftTextGenerationTransformer.Create(state, runtime, columns, input.Schema, _options.TransformBatchSize);
    }

    /// <summary>The generation trainer's settings: the columns and how to generate, besides what every PEFT trainer takes.</summary>
    public sealed class Options : PeftTrainingOptions
    {
        /// <summary>The prompt (or, for a sequence-to-sequence model, the source) column.</summary>
        public string PromptColumnName { get; set; } = "Prompt";

        /// <summary>The completion (or target) column the adapter learns to produce.</summary>
        public string CompletionColumnName { get; set; } = "Completion";

        /// <summary>The generated-text column written.</summary>
        public string OutputColumnName { get; set; } = "GeneratedText";

        /// <summary>
        /// Rows the fitted transformer's Transform generates together (one pass and one key/value
        /// cache per batch, left-padded); greedy rows only, each row's text the same as alone.
        /// </summary>
        public int TransformBatchSize { get; set; } = 8;

        /// <summary>
        /// How to generate (max new tokens, greedy or sampling with a seed, temperature, top-k/top-p,
        /// stop strings); changeable on the fitted transformer.
        /// </summary>
        public GenerationOptions Generation { get; set; } = new() { MaxNewTokens = 32 };

        internal override void Validate()
        {
            base.Validate();
            ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
            if (TransformBatchSize <= 0)
                throw new ArgumentOutOfRangeException(nameof(TransformBatchSize), $"TransformBatchSize must be positive; got {TransformBatchSize}.");
            // The tokenizer's decode is supplied at run time; stop strings need nothing else.
            (Generation with { TextDecoder = Generation.TextDecoder ?? (_ => "") }).Validate();
        }
    }
}
