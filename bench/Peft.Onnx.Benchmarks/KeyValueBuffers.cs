using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Peft.Onnx.Benchmarks;

/// <summary>
/// ORT's KV cache between steps: two preallocated buffers per past/present tensor, used in turn. Step n reads the past
/// [B, H, P, hd] from one and ORT writes the present [B, H, P+T, hd] into the other, which the next step reads: no
/// copy and no allocation per step (the layout [B, H, S, hd] changes with S, so one growing buffer would need a copy).
/// </summary>
internal sealed class KeyValueBuffers : IDisposable
{
    private readonly NativeBuffer<float>[][] _buffers;
    private readonly int _batch, _heads, _headDim;
    private int _current;

    public KeyValueBuffers(int tensors, int batch, int heads, int headDim, int capacity)
    {
        (_batch, _heads, _headDim) = (batch, heads, headDim);
        long size = (long)batch * heads * capacity * headDim;
        _buffers = [.. Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, tensors).Select(_ => new NativeBuffer<float>(size)).ToArray())];
    }

    /// <summary>The past of tensor <paramref name="index"/> holding <paramref name="length"/> positions (0 = empty).</summary>
    public OrtValue Past(int index, int length) => View(_buffers[_current][index], length);

    /// <summary>Where ORT writes the present of tensor <paramref name="index"/> (<paramref name="length"/> positions).</summary>
    public OrtValue Present(int index, int length) => View(_buffers[1 - _current][index], length);

    /// <summary>After a step: the presents become the next step's pasts.</summary>
    public void Swap() => _current = 1 - _current;

    public void Reset() => _current = 0;

    private unsafe OrtValue View(NativeBuffer<float> buffer, int length)
    {
        long[] shape = [_batch, _heads, length, _headDim];
        long bytes = (long)_batch * _heads * length * _headDim * sizeof(float);
        if (bytes > buffer.Length * sizeof(float)) throw new InvalidOperationException("KV capacity exceeded.");
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, (nint)buffer.Pointer, bytes);
    }

    public void Dispose()
    {
        foreach (var set in _buffers)
            foreach (var b in set) b.Dispose();
    }
}
