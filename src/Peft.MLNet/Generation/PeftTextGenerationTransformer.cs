using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Data;
using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.MLNet.Training;
using Peft.Transformers.Generation;

namespace Peft.MLNet.Generation;

/// <summary>
/// A fitted PEFT generator: adds the generated text lazily; <see cref="Transform"/> generates
/// greedy rows <see cref="TransformBatchSize"/> at a time (one pass, one key/value cache per batch,
/// each row's text what it gets alone), and the row-to-row mapper serves
/// <c>mlContext.Model.CreatePredictionEngine</c> one row at a time. <c>mlContext.Model.Save</c> writes it as a
/// chain of ML.NET's own transforms carrying the adapter, the generation settings and a
/// reference to the base model; <c>Model.Load</c> gives that chain back, which generates exactly
/// what this transformer does.
/// </summary>
public sealed class PeftTextGenerationTransformer : ITransformer
{
    private readonly ITransformer _chain;
    private readonly ModelState _state;
    private readonly GenerationRuntime _runtime;
    private readonly GenerationColumns _columns;
    private readonly DataViewSchema _inputSchema;

    private PeftTextGenerationTransformer(ITransformer chain, ModelState state, GenerationRuntime runtime, GenerationColumns columns,
        DataViewSchema inputSchema, int transformBatchSize)
    {
        _chain = chain;
        _state = state;
        _runtime = runtime;
        _columns = columns;
        _inputSchema = inputSchema;
        TransformBatchSize = transformBatchSize;
    }

    /// <summary>The transformer of a state whose runtime is live in this process.</summary>
    internal static PeftTextGenerationTransformer Create(ModelState state, GenerationRuntime runtime, GenerationColumns columns,
        DataViewSchema inputSchema, int transformBatchSize)
    {
        RuntimeCache.Put(state.Id, runtime);
        var chain = GenerationChain.Estimator(new MLContext(), columns, state.Serialize()).Fit(new SchemaOnlyDataView(inputSchema));
        return new PeftTextGenerationTransformer(chain, state, runtime, columns, inputSchema, transformBatchSize);
    }

    /// <summary>The transformer again from the state string a loaded chain carries (see <see cref="PeftLoadedModels.WithBatchedGeneration"/>).</summary>
    /// <exception cref="InvalidDataException">The state is damaged, another task's, or lacks its columns.</exception>
    internal static PeftTextGenerationTransformer FromSavedState(string stateText, DataViewSchema inputSchema, int transformBatchSize)
    {
        var state = ModelState.Parse(stateText);
        var columns = state.Columns is { } saved
            ? state.ReadPart("columns", () => GenerationColumns.FromJson(saved))
            : throw new InvalidDataException(
                "The saved generator does not record its columns (an earlier version saved it); fit and save it again to batch it.");
        var runtime = RuntimeCache.GetOrBuild(stateText.AsMemory(), GenerationMapping.Build);
        return Create(state, runtime, columns, inputSchema, transformBatchSize);
    }

    /// <summary>
    /// Rows <see cref="Transform"/> generates together (greedy generation with an eos token; sampled
    /// rows always run one at a time so each row's draws are its own).
    /// </summary>
    public int TransformBatchSize { get; }

    /// <summary>How it generates.</summary>
    public GenerationOptions Generation => _runtime.Settings.Generation;

    /// <summary>The column the generated text goes to.</summary>
    public string OutputColumnName => _columns.Output;

    /// <summary>The same adapter generating with other settings (the model is shared, not copied); saving it saves those settings.</summary>
    /// <param name="generation">Length, stopping and sampling settings.</param>
    public PeftTextGenerationTransformer WithGeneration(GenerationOptions generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        (generation with { TextDecoder = generation.TextDecoder ?? (_ => "") }).Validate();
        var settings = _runtime.Settings with { Generation = generation };
        var state = _state with { Id = Guid.NewGuid().ToString("N"), Settings = settings.ToJson() };
        return Create(state, _runtime.With(settings), _columns, _inputSchema, TransformBatchSize);
    }

    /// <summary>The same transformer generating <paramref name="rows"/> rows at a time in <see cref="Transform"/> (1: one by one).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is not positive.</exception>
    public PeftTextGenerationTransformer WithTransformBatchSize(int rows)
    {
        if (rows <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"The batch size must be positive; got {rows}.");
        return new PeftTextGenerationTransformer(_chain, _state, _runtime, _columns, _inputSchema, rows);
    }

    /// <summary>Generation passes this transformer's model has run (one per prompt alone, one per batch).</summary>
    internal int GenerationPasses => _runtime.Passes;

    /// <summary>Generates the text after one prompt, as the output column of a row would hold it.</summary>
    /// <param name="prompt">The prompt (or source) text.</param>
    /// <param name="taskId">The row's task, for multitask prompt tuning (ignored by other methods).</param>
    public string Generate(string prompt, int taskId = 0)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return _runtime.Generate(prompt, taskId);
    }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => _chain.IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _chain.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _chain.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        var output = _chain.Transform(input);
        return TransformBatchSize > 1 && _runtime.CanBatch ? new BatchedGenerationView(input, output, _runtime, _columns, TransformBatchSize) : output;
    }

    /// <summary>Writes the adapter alone as a Hugging Face PEFT folder (adapter_config.json + adapter_model.safetensors).</summary>
    /// <param name="folder">The folder (created when missing).</param>
    public void SaveAdapter(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _runtime.Model.SaveAdapter(AdapterFit.AdapterName, folder);
    }

    /// <inheritdoc/>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _chain.Save(ctx);
}
