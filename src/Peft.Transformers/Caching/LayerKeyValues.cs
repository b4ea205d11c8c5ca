using Peft.Tensors;

namespace Peft.Transformers.Caching;

/// <summary>
/// One layer's cached keys and values, stored [batch, heads, capacity, headDim] so each
/// (row, head) block is contiguous and attention reads its first <see cref="Length"/> rows in
/// place. Appending copies only the new positions.
/// </summary>
internal sealed class LayerKeyValues
{
    private readonly CacheLayout _layout;
    private float[] _keys;
    private float[] _values;

    public LayerKeyValues(CacheLayout layout, int capacity)
    {
        _layout = layout;
        Capacity = capacity;
        _keys = new float[BlockCount * capacity * layout.HeadDim];
        _values = new float[_keys.Length];
    }

    private int BlockCount => _layout.BatchSize * _layout.KeyValueHeads;

    public int Length { get; private set; }

    public int Capacity { get; private set; }

    /// <summary>The keys as a [batch, heads, capacity, headDim] tensor (only the first Length positions are valid).</summary>
    public Tensor Keys => Tensor.Wrap(_keys, new Shape(_layout.BatchSize, _layout.KeyValueHeads, Capacity, _layout.HeadDim));

    /// <summary>The values, laid out like <see cref="Keys"/>.</summary>
    public Tensor Values => Tensor.Wrap(_values, new Shape(_layout.BatchSize, _layout.KeyValueHeads, Capacity, _layout.HeadDim));

    public ReadOnlySpan<float> KeyBlock(int block) => _keys.AsSpan(block * Capacity * _layout.HeadDim, Length * _layout.HeadDim);

    public ReadOnlySpan<float> ValueBlock(int block) => _values.AsSpan(block * Capacity * _layout.HeadDim, Length * _layout.HeadDim);

    /// <summary>Appends [batch, heads, newLength, headDim] keys and values.</summary>
    public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int newLength, bool canGrow)
    {
        int needed = Length + newLength;
        if (needed > Capacity)
        {
            if (!canGrow)
                throw new InvalidOperationException(
                    $"Static cache is full: it holds {Capacity} positions and {needed} are needed. Create it with a larger maxLength.");
            Grow(Math.Max(needed, Capacity * 2));
        }
        int d = _layout.HeadDim;
        for (int b = 0; b < BlockCount; b++)
        {
            keys.Slice(b * newLength * d, newLength * d).CopyTo(_keys.AsSpan((b * Capacity + Length) * d));
            values.Slice(b * newLength * d, newLength * d).CopyTo(_values.AsSpan((b * Capacity + Length) * d));
        }
        Length = needed;
    }

    private void Grow(int capacity)
    {
        int d = _layout.HeadDim;
        var keys = new float[BlockCount * capacity * d];
        var values = new float[keys.Length];
        for (int b = 0; b < BlockCount; b++)
        {
            _keys.AsSpan(b * Capacity * d, Length * d).CopyTo(keys.AsSpan(b * capacity * d));
            _values.AsSpan(b * Capacity * d, Length * d).CopyTo(values.AsSpan(b * capacity * d));
        }
        _keys = keys;
        _values = values;
        Capacity = capacity;
    }

    public void Crop(int length) => Length = Math.Min(Length, length);

    /// <summary>Row r of the result is row batchIndices[r] of the cache (beam search).</summary>
    public void Reorder(ReadOnlySpan<int> batchIndices)
    {
        int blockFloats = _layout.KeyValueHeads * Capacity * _layout.HeadDim;
        var keys = new float[_keys.Length];
        var values = new float[_values.Length];
        for (int r = 0; r < batchIndices.Length; r++)
        {
            _keys.AsSpan(batchIndices[r] * blockFloats, blockFloats).CopyTo(keys.AsSpan(r * blockFloats));
            _values.AsSpan(batchIndices[r] * blockFloats, blockFloats).CopyTo(values.AsSpan(r * blockFloats));
        }
        _keys = keys;
        _values = values;
    }

    /// <summary>A contiguous [batch, heads, Length, headDim] copy of keys or values.</summary>
    public Tensor Export(bool keys)
    {
        int d = _layout.HeadDim;
        var src = keys ? _keys : _values;
        var result = new float[BlockCount * Length * d];
        for (int b = 0; b < BlockCount; b++)
            src.AsSpan(b * Capacity * d, Length * d).CopyTo(result.AsSpan(b * Length * d));
        return Tensor.Wrap(result, new Shape(_layout.BatchSize, _layout.KeyValueHeads, Length, d));
    }
}
