using System.Runtime.InteropServices;

namespace Peft.Transformers.SafeTensors;

/// <summary>A tensor to write: name, element type, shape and its little-endian bytes.</summary>
/// <param name="Name">The key in the file.</param>
/// <param name="DType">Element type of <paramref name="Data"/>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">The bytes, exactly elementCount × size of the dtype.</param>
public sealed record SafeTensorWriteEntry(string Name, SafeTensorDType DType, int[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>An entry holding float32 values.</summary>
    public static SafeTensorWriteEntry Float32(string name, float[] values, params int[] shape) =>
        new(name, SafeTensorDType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>An entry holding int64 values (the dtype PyTorch uses for token ids).</summary>
    public static SafeTensorWriteEntry Int64(string name, long[] values, params int[] shape) =>
        new(name, SafeTensorDType.I64, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
