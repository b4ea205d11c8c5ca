using Peft.Tensors;

namespace Peft.Transformers.Caching;

/// <summary>A cache whose storage grows (doubling) as tokens are appended.</summary>
public sealed class DynamicCache : Cache
{
    /// <summary>Creates an empty cache; <paramref name="initialCapacity"/> positions are reserved per layer.</summary>
    public DynamicCache(CacheLayout layout, int initialCapacity = 64)
        : base(layout, initialCapacity)
    {
    }

    /// <inheritdoc/>
    protected override bool CanGrow => true;

    /// <summary>
    /// Rebuilds a cache from per-layer (keys, values) tensors [batch, kvHeads, length, headDim],
    /// the first <paramref name="prefixLength"/> positions of which are virtual-token prefix.
    /// </summary>
    public static DynamicCache FromLayerList(IReadOnlyList<(Tensor Keys, Tensor Values)> layers, int prefixLength = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("FromLayerList needs at least one layer.", nameof(layers));
        var k0 = layers[0].Keys;
        if (k0.Rank != 4) throw new ArgumentException($"FromLayerList: layer 0 keys {k0.Shape} must be [batch, kvHeads, length, headDim].", nameof(layers));
        var cache = new DynamicCache(new CacheLayout(layers.Count, k0.Shape[0], k0.Shape[1], k0.Shape[3]), k0.Shape[2]);
        for (int i = 0; i < layers.Count; i++) cache.Append(i, layers[i].Keys, layers[i].Values);
        cache.SetPrefixLength(prefixLength);
        return cache;
    }
}
