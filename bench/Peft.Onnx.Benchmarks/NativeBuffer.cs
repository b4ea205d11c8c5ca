using System.Runtime.InteropServices;

namespace Peft.Onnx.Benchmarks;

/// <summary>
/// Unmanaged memory ORT reads and writes through IOBinding: allocated once per case, so a timed step allocates no
/// output (the GC never moves it, so no pinning either).
/// </summary>
internal sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    public NativeBuffer(long length)
    {
        Length = length;
        // 64-byte alignment, as ORT's own allocator gives.
        Pointer = (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length * sizeof(T)), 64);
    }

    public T* Pointer { get; private set; }

    public long Length { get; }

    public Span<T> Span(long start, int length) =>
        start + length <= Length ? new Span<T>(Pointer + start, length) : throw new ArgumentOutOfRangeException(nameof(length));

    public void Dispose()
    {
        if (Pointer is null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}
