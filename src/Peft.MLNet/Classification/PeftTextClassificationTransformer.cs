using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Classification;

/// <summary>
/// A fitted PEFT text classifier: adds <c>Score</c> (class probabilities, a known-size vector)
/// and <c>PredictedLabel</c> (a key with the training label's names) lazily, row by row, so
/// <c>mlContext.Model.CreatePredictionEngine</c> works. <c>mlContext.Model.Save</c> writes it as a
/// chain of ML.NET's own transforms carrying the adapter and settings (not the base model's
/// weights: a folder reference and a SHA-256); <c>Model.Load</c> gives that chain back, which
/// predicts exactly what this transformer does.
/// </summary>
public sealed class PeftTextClassificationTransformer : ITransformer
{
    private readonly ITransformer _chain;
    private readonly ClassifierRuntime _runtime;
    private readonly ClassificationColumns _columns;

    internal PeftTextClassificationTransformer(ITransformer chain, ClassifierRuntime runtime, ClassificationColumns columns)
    {
        _chain = chain;
        _runtime = runtime;
        _columns = columns;
    }

    /// <summary>The class names, in the label key's order.</summary>
    public IReadOnlyList<string> ClassNames => _runtime.Settings.ClassNames;

    /// <summary>The column the class probabilities go to.</summary>
    public string ScoreColumnName => _columns.Score;

    /// <summary>The column the predicted class goes to.</summary>
    public string PredictedLabelColumnName => _columns.PredictedLabel;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => _chain.IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _chain.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _chain.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => _chain.Transform(input);

    /// <summary>
    /// Writes the adapter alone as a Hugging Face PEFT folder (adapter_config.json +
    /// adapter_model.safetensors, the classification head included).
    /// </summary>
    /// <param name="folder">The folder (created when missing).</param>
    public void SaveAdapter(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _runtime.Model.SaveAdapter(Training.AdapterFit.AdapterName, folder);
    }

    /// <inheritdoc/>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _chain.Save(ctx);
}
