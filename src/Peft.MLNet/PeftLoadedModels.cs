using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Peft.MLNet.Generation;
using Peft.MLNet.Persistence;

namespace Peft.MLNet;

/// <summary>
/// What a model read back with <c>mlContext.Model.Load</c> can regain. A saved PEFT transformer comes
/// back as ML.NET's own transforms (the only form a third-party assembly can save), which generate
/// row by row; this turns those generators back into <see cref="PeftTextGenerationTransformer"/>s so
/// <c>Transform</c> batches again.
/// </summary>
public static class PeftLoadedModels
{
    /// <summary>
    /// The loaded model with every saved PEFT generator in it (at any depth of its chains) rebuilt as a
    /// <see cref="PeftTextGenerationTransformer"/> generating <paramref name="transformBatchSize"/> rows at a
    /// time; every other transform is kept as it is. The outputs are the same row for row, and saving the
    /// result writes the same model again.
    /// </summary>
    /// <param name="model">What <c>Model.Load</c> returned.</param>
    /// <param name="inputSchema">The input schema <c>Model.Load</c> returned with it.</param>
    /// <param name="transformBatchSize">Rows generated together (1: one by one).</param>
    /// <returns>The rebuilt model, or <paramref name="model"/> itself when it holds no saved generator.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="transformBatchSize"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">A saved generator's state is damaged, or from a version that did not record its columns.</exception>
    public static ITransformer WithBatchedGeneration(this ITransformer model, DataViewSchema inputSchema, int transformBatchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (transformBatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(transformBatchSize), $"The batch size must be positive; got {transformBatchSize}.");
        return Rebuild(model, inputSchema, transformBatchSize);
    }

    private static ITransformer Rebuild(ITransformer model, DataViewSchema schema, int batchSize)
    {
        if (model is not IEnumerable<ITransformer> chain) return model;
        var elements = chain.ToArray();
        if (SavedState(elements) is { } state) return PeftTextGenerationTransformer.FromSavedState(state, schema, batchSize);

        var rebuilt = new ITransformer[elements.Length];
        bool changed = false;
        for (int i = 0; i < elements.Length; i++)
        {
            rebuilt[i] = Rebuild(elements[i], schema, batchSize);
            changed |= !ReferenceEquals(rebuilt[i], elements[i]);
            schema = rebuilt[i].GetOutputSchema(schema);
        }
        return changed ? new TransformerChain<ITransformer>(rebuilt) : model;
    }

    /// <summary>
    /// The state string of a saved generator's chain (the value mapping right after the state-key step
    /// turns the constant key into it), or null when these elements are not one.
    /// </summary>
    private static string? SavedState(ITransformer[] elements)
    {
        if (!elements.Any(e => e is CustomMappingTransformer<GenerationMapping.Input, GenerationMapping.Output>)) return null;
        // The steps before the mapping sit in nested chains (EstimatorChain.Append nests the chain it extends).
        var steps = Flatten(elements).ToArray();
        int keyStep = Array.FindIndex(steps, e => e is CustomMappingTransformer<StateKeyMapping.NoInput, StateKeyMapping.KeyRow>);
        if (keyStep < 0 || keyStep + 1 >= steps.Length)
            throw new InvalidDataException("A saved PEFT generator's chain has no state step; the file is damaged, save the model again.");
        var key = new MLContext().Data.LoadFromEnumerable([new StateKeyMapping.KeyRow()]);
        return steps[keyStep + 1].Transform(key).GetColumn<string>(nameof(GenerationMapping.Input.PeftMLNetState)).Single();
    }

    private static IEnumerable<ITransformer> Flatten(IEnumerable<ITransformer> elements) =>
        elements.SelectMany(e => e is IEnumerable<ITransformer> nested ? Flatten(nested) : [e]);
}
