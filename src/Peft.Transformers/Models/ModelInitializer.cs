using Peft.Tensors;

namespace Peft.Transformers.Models;

/// <summary>
/// Random initialization of a freshly built model the way Hugging Face's <c>_init_weights</c>
/// does it for these families: matrices and embeddings N(0, initializer_range²), biases 0,
/// norm weights 1 (and LayerNorm biases 0).
/// </summary>
public static class ModelInitializer
{
    /// <summary>Fills every parameter of <paramref name="parameters"/> with a seeded draw.</summary>
    public static void InitializeRandom(ParameterSet parameters, ulong seed, float std = 0.02f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var random = new SeededRandom(seed);
        foreach (var p in parameters.All)
        {
            var values = p.Tensor.Span;
            bool isNormWeight = p.Tensor.Rank == 1
                && (p.Name.Contains("ln", StringComparison.Ordinal) || p.Name.Contains("norm", StringComparison.OrdinalIgnoreCase))
                && p.Name.EndsWith(".weight", StringComparison.Ordinal);
            if (isNormWeight) values.Fill(1f);
            else if (p.Tensor.Rank == 1) values.Clear();
            else for (int i = 0; i < values.Length; i++) values[i] = std * random.NextNormal();
            p.Tensor.MarkModified();
        }
    }
}
