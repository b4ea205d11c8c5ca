using Peft.Tensors;

namespace Peft.Transformers.Caching;

/// <summary>
/// Per-layer key/value rows placed in front of every attention's keys (prefix tuning). Unlike a
/// <see cref="Cache"/>, these are differentiable tensors: training sends gradients into them.
/// Each layer's keys and values are [batch, kvHeads, length, headDim] to a reader; a prefix made with
/// <see cref="PrefixKeyValues(IReadOnlyList{ValueTuple{Tensor, Tensor}}, int)"/> from one row shared by the
/// whole batch holds that row once: self-attention reads it for every row in place (<see cref="Source"/>), so a training
/// step keeps no batch-sized copy of any layer's prefix or its gradient; batch copies are made only where rows must be
/// stored or joined (a cache the prefix is appended to; T5's cross-attention, which concatenates its keys).
/// </summary>
public sealed class PrefixKeyValues
{
    private readonly (Tensor Keys, Tensor Values)[] _layers;

    /// <summary>Wraps one (keys, values) pair per layer; every pair must share one shape.</summary>
    public PrefixKeyValues(IReadOnlyList<(Tensor Keys, Tensor Values)> layers) : this(layers, null) { }

    /// <summary>
    /// Wraps one (keys, values) pair per layer, each [1 or <paramref name="batchSize"/>, kvHeads, length, headDim]
    /// (every pair one shape): a batch of one is the same prefix for each of the <paramref name="batchSize"/> rows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The layers are empty, not rank 4, differ in shape, or have another batch.</exception>
    public PrefixKeyValues(IReadOnlyList<(Tensor Keys, Tensor Values)> layers, int batchSize) : this(layers, (int?)batchSize) { }

    private PrefixKeyValues(IReadOnlyList<(Tensor Keys, Tensor Values)> layers, int? batchSize)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (batchSize is < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"A prefix needs a batch of at least 1; got {batchSize}.");
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
        int batch = batchSize ?? shape[0];
        if (shape[0] != batch && shape[0] != 1)
            throw new ArgumentException($"Prefix keys have batch {shape[0]}; a prefix for a batch of {batch} needs {batch} rows or one shared row.", nameof(layers));
        _layers = [.. layers];
        Layout = new CacheLayout(layers.Count, batch, shape[1], shape[3]);
        Length = shape[2];
        IsShared = shape[0] != batch;
    }

    /// <summary>Layers, batch, heads and head size.</summary>
    public CacheLayout Layout { get; }

    /// <summary>Number of virtual-token positions.</summary>
    public int Length { get; }

    /// <summary>True when the prefix holds one row that every row of the batch shares (see <see cref="Source"/>).</summary>
    public bool IsShared { get; }

    /// <summary>
    /// The keys and values of one layer, [batch, kvHeads, length, headDim]. For a shared prefix these are new tensors
    /// (the row repeated for the batch, with gradients flowing back to it) on every call.
    /// </summary>
    public (Tensor Keys, Tensor Values) this[int layer]
    {
        get
        {
            var (keys, values) = Source(layer);
            return IsShared ? (Ops.Repeat(keys, Layout.BatchSize), Ops.Repeat(values, Layout.BatchSize)) : (keys, values);
        }
    }

    /// <summary>
    /// The tensors held for one layer: [batch, …], or [1, …] when <see cref="IsShared"/>. They are what a layer's
    /// result depends on (gradient checkpointing lists them as the layer's side inputs).
    /// </summary>
    public (Tensor Keys, Tensor Values) Source(int layer) =>
        (uint)layer < (uint)_layers.Length
            ? _layers[layer]
            : throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} is out of range; the prefix has {_layers.Length} layers.");

    /// <summary>Every layer's keys and values with the batch's rows, as the indexer gives them (for <see cref="Cache.AppendPrefix"/>).</summary>
    public IReadOnlyList<(Tensor Keys, Tensor Values)> Layers =>
        IsShared ? [.. Enumerable.Range(0, _layers.Length).Select(i => this[i])] : _layers;
}
