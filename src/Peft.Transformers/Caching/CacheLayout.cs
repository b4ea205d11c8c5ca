namespace Peft.Transformers.Caching;

/// <summary>
/// The dimensions every layer of a key/value cache shares. A model checks a cache against its own
/// layout before using it, so a cache built for another model fails with a message saying which
/// dimension differs.
/// </summary>
/// <param name="Layers">Number of attention layers.</param>
/// <param name="BatchSize">Rows in the batch.</param>
/// <param name="KeyValueHeads">Key/value heads per layer.</param>
/// <param name="HeadDim">Size of one head.</param>
public readonly record struct CacheLayout(int Layers, int BatchSize, int KeyValueHeads, int HeadDim)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless every dimension is positive.</summary>
    public void Validate()
    {
        if (Layers <= 0 || BatchSize <= 0 || KeyValueHeads <= 0 || HeadDim <= 0)
            throw new ArgumentException(
                $"Cache layout needs positive sizes; got layers {Layers}, batch {BatchSize}, kv heads {KeyValueHeads}, head dim {HeadDim}.");
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first dimension in which <paramref name="actual"/> differs from this (expected) layout.
    /// </summary>
    public void CheckMatches(CacheLayout actual, string what)
    {
        if (actual.Layers != Layers) throw Mismatch(what, "layers", actual.Layers, Layers);
        if (actual.BatchSize != BatchSize) throw Mismatch(what, "batch size", actual.BatchSize, BatchSize);
        if (actual.KeyValueHeads != KeyValueHeads) throw Mismatch(what, "key/value heads", actual.KeyValueHeads, KeyValueHeads);
        if (actual.HeadDim != HeadDim) throw Mismatch(what, "head size", actual.HeadDim, HeadDim);
    }

    private static ArgumentException Mismatch(string what, string dim, int got, int expected) =>
        new($"{what}: the cache has {got} {dim} but the model needs {expected}.");
}
