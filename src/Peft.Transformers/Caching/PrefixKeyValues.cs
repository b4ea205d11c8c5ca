using Peft.Tensors;

namespace Peft.Transformers.Caching;

/// <summary>
/// Per-layer key/value rows placed in front of every attention's keys (prefix tuning). Unlike a
/// <see cref="Cache"/>, these are differentiable tensors: training sends gradients into them.
/// Each layer holds keys and values [batch, kvHeads, length, headDim].
/// </summary>
public sealed class PrefixKeyValues
{
    private readonly (Tensor Keys, Tensor Values)[] _layers;

    /// <summary>Wraps one (keys, values) pair per layer; every pair must share one shape.</summary>
    public PrefixKeyValues(IReadOnlyList<(Tensor Keys, Tensor Values)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("A prefix needs at least one layer.", nameof(layers));
        var shape = layers[0].Keys.Shape;
        if (shape.Rank != 4) throw new ArgumentException($"Prefix keys must be [batch, kvHeads, length, headDim]; layer 0 has {shape}.", nameof(layers));
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Keys.Shape != shape || layers[i].Values.Shape != shape)
                throw new ArgumentException(
                    $"Prefix layer {i} has keys {layers[i].Keys.Shape} and values {layers[i].Values.Shape}; all must be {shape} like layer 0's keys.",
                    nameof(layers));
        }
        _layers = [.. layers];
        Layout = new CacheLayout(layers.Count, shape[0], shape[1], shape[3]);
        Length = shape[2];
    }

    /// <summary>Layers, batch, heads and head size.</summary>
    public CacheLayout Layout { get; }

    /// <summary>Number of virtual-token positions.</summary>
    public int Length { get; }

    /// <summary>The keys and values of one layer.</summary>
    public (Tensor Keys, Tensor Values) this[int layer] =>
        (uint)layer < (uint)_layers.Length
            ? _layers[layer]
            : throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} is out of range; the prefix has {_layers.Length} layers.");

    /// <summary>The layers as a list (for <see cref="Cache.AppendPrefix"/>).</summary>
    public IReadOnlyList<(Tensor Keys, Tensor Values)> Layers => _layers;
}
