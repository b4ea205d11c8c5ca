using Peft.Tensors;

namespace Peft.Transformers.Caching;

/// <summary>
/// A key/value cache: an object (never a tuple) that knows its layout, its length per layer and
/// how much of it is prefix (virtual tokens from prefix tuning or a pre-filled prompt adapter)
/// versus real tokens. Attention masks and position ids for generation are derived from it in
/// one place (<see cref="RealTokenLength"/>), so prompt methods cannot disagree with it.
/// </summary>
public abstract class Cache
{
    private readonly LayerKeyValues[] _layers;

    /// <summary>Creates a cache with <paramref name="initialCapacity"/> positions per layer.</summary>
    private protected Cache(CacheLayout layout, int initialCapacity)
    {
        layout.Validate();
        if (initialCapacity < 0) throw new ArgumentOutOfRangeException(nameof(initialCapacity), $"Capacity must be >= 0; got {initialCapacity}.");
        Layout = layout;
        _layers = new LayerKeyValues[layout.Layers];
        for (int i = 0; i < _layers.Length; i++) _layers[i] = new LayerKeyValues(layout, initialCapacity);
    }

    /// <summary>Layers, batch size, heads and head size.</summary>
    public CacheLayout Layout { get; }

    /// <summary>Whether appending past the capacity grows the storage (dynamic) or fails (static).</summary>
    protected abstract bool CanGrow { get; }

    /// <summary>Positions stored in layer <paramref name="layer"/>, prefix included.</summary>
    public int GetLength(int layer = 0) => Layer(layer).Length;

    /// <summary>Positions stored (layer 0), prefix included.</summary>
    public int Length => _layers[0].Length;

    /// <summary>How many leading positions are virtual-token prefix rather than real tokens.</summary>
    public int PrefixLength { get; private set; }

    /// <summary>Positions of real tokens: what position ids and the real-token mask continue from.</summary>
    public int RealTokenLength => Length - PrefixLength;

    /// <summary>Capacity of layer <paramref name="layer"/>.</summary>
    public int GetCapacity(int layer = 0) => Layer(layer).Capacity;

    private LayerKeyValues Layer(int layer)
    {
        if ((uint)layer >= (uint)_layers.Length)
            throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} is out of range; the cache has {_layers.Length} layers.");
        return _layers[layer];
    }

    /// <summary>
    /// Appends new keys and values [batch, kvHeads, newLength, headDim] to one layer. Returns
    /// the layer's storage ([batch, kvHeads, capacity, headDim]) and how many positions are valid.
    /// </summary>
    public (Tensor Keys, Tensor Values, int Length) Append(int layer, Tensor keys, Tensor values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        CheckBlock(keys, "keys");
        CheckBlock(values, "values");
        if (keys.Shape[2] != values.Shape[2])
            throw new ArgumentException($"Cache.Append: keys {keys.Shape} and values {values.Shape} have different lengths.");
        var l = Layer(layer);
        l.Append(keys.Span, values.Span, keys.Shape[2], CanGrow);
        return (l.Keys, l.Values, l.Length);
    }

    /// <summary>
    /// Appends virtual-token key/values to every layer of an empty cache and records them as
    /// prefix. <paramref name="perLayer"/> holds one (keys, values) pair per layer, each
    /// [batch, kvHeads, prefixLength, headDim].
    /// </summary>
    public void AppendPrefix(IReadOnlyList<(Tensor Keys, Tensor Values)> perLayer)
    {
        ArgumentNullException.ThrowIfNull(perLayer);
        if (perLayer.Count != Layout.Layers)
            throw new ArgumentException($"Cache.AppendPrefix: got {perLayer.Count} layers of prefix; the cache has {Layout.Layers}.", nameof(perLayer));
        if (Length != PrefixLength)
            throw new InvalidOperationException(
                $"Cache.AppendPrefix: the cache already holds {RealTokenLength} real tokens; prefixes go in front of them, so add them first.");
        // Validate every layer before touching any, so a bad prefix leaves the cache unchanged.
        int length = perLayer[0].Keys.Rank == 4 ? perLayer[0].Keys.Shape[2] : -1;
        for (int i = 0; i < perLayer.Count; i++)
        {
            var (k, v) = perLayer[i];
            CheckBlock(k, $"prefix keys of layer {i}");
            CheckBlock(v, $"prefix values of layer {i}");
            if (k.Shape[2] != length || v.Shape[2] != length)
                throw new ArgumentException(
                    $"Cache.AppendPrefix: layer {i} has keys {k.Shape} and values {v.Shape}; every layer needs {length} prefix positions like layer 0.",
                    nameof(perLayer));
        }
        for (int i = 0; i < perLayer.Count; i++) Append(i, perLayer[i].Keys, perLayer[i].Values);
        PrefixLength += length;
    }

    /// <summary>Keeps only the first <paramref name="length"/> positions (never cutting into the prefix).</summary>
    public void Crop(int length)
    {
        if (length < PrefixLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"Cannot crop the cache to {length} positions: its first {PrefixLength} are prefix.");
        foreach (var l in _layers) l.Crop(length);
    }

    /// <summary>Empties every layer, prefix included, keeping the storage (a generator reusing its cache for the next run).</summary>
    internal void Clear()
    {
        foreach (var l in _layers) l.Crop(0);
        PrefixLength = 0;
    }

    /// <summary>Reorders batch rows: row r becomes old row <paramref name="batchIndices"/>[r] (beam search).</summary>
    public void Reorder(ReadOnlySpan<int> batchIndices)
    {
        if (batchIndices.Length != Layout.BatchSize)
            throw new ArgumentException($"Cache.Reorder: got {batchIndices.Length} indices for a batch of {Layout.BatchSize}.", nameof(batchIndices));
        foreach (int i in batchIndices)
            if ((uint)i >= (uint)Layout.BatchSize)
                throw new ArgumentOutOfRangeException(nameof(batchIndices), $"Cache.Reorder: index {i} is outside the batch of {Layout.BatchSize}.");
        foreach (var l in _layers) l.Reorder(batchIndices);
    }

    /// <summary>Contiguous copies of each layer's valid keys and values ([batch, kvHeads, length, headDim]), for interop.</summary>
    public IReadOnlyList<(Tensor Keys, Tensor Values)> ToLayerList()
    {
        var list = new (Tensor, Tensor)[_layers.Length];
        for (int i = 0; i < list.Length; i++) list[i] = (_layers[i].Export(true), _layers[i].Export(false));
        return list;
    }

    /// <summary>A layer's whole storage [batch, kvHeads, capacity, headDim] as tensors over the cache's own buffers (valid rows first in each head).</summary>
    internal (Tensor Keys, Tensor Values) Storage(int layer) => (Layer(layer).Keys, Layer(layer).Values);

    /// <summary>The valid keys of one (batch row, head) block, contiguous [length, headDim].</summary>
    public ReadOnlySpan<float> KeyBlock(int layer, int batch, int head) => Layer(layer).KeyBlock(batch * Layout.KeyValueHeads + head);

    /// <summary>The valid values of one (batch row, head) block, contiguous [length, headDim].</summary>
    public ReadOnlySpan<float> ValueBlock(int layer, int batch, int head) => Layer(layer).ValueBlock(batch * Layout.KeyValueHeads + head);

    private void CheckBlock(Tensor t, string what)
    {
        if (t.Rank != 4 || t.Shape[0] != Layout.BatchSize || t.Shape[1] != Layout.KeyValueHeads || t.Shape[3] != Layout.HeadDim)
            throw new ArgumentException(
                $"Cache.Append: {what} {t.Shape} must be [batch {Layout.BatchSize}, kv heads {Layout.KeyValueHeads}, length, head dim {Layout.HeadDim}].");
    }

    /// <summary>Sets how many leading positions are prefix (used when restoring a cache from a layer list).</summary>
    private protected void SetPrefixLength(int prefixLength)
    {
        if (prefixLength < 0 || prefixLength > Length)
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"Prefix length {prefixLength} must be within [0, {Length}].");
        PrefixLength = prefixLength;
    }
}
