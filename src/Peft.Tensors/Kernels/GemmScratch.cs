using System.Runtime.InteropServices;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Per-thread, 64-byte aligned packing buffers. They grow to the largest block seen and are then
/// reused, so steady-state GEMM calls allocate nothing; the finalizer frees them with the thread.
/// </summary>
internal sealed unsafe class GemmScratch
{
    [ThreadStatic] private static GemmScratch? t_current;

    private nuint _aFloats;
    private nuint _bFloats;

    /// <summary>Packed A block (MC×KC).</summary>
    public float* A { get; private set; }

    /// <summary>Packed B panel (KC×NC).</summary>
    public float* B { get; private set; }

    /// <summary>One MR×NR tile for edge tiles that do not fill a whole register block.</summary>
    public float* Tile { get; }

    private GemmScratch()
    {
        Tile = (float*)NativeMemory.AlignedAlloc(64 * 64 * sizeof(float), 64);
    }

    /// <summary>This thread's buffers, with room for at least the given number of floats.</summary>
    public static GemmScratch Get(nuint aFloats, nuint bFloats)
    {
        var s = t_current ??= new GemmScratch();
        if (s._aFloats < aFloats) s.A = Grow(s.A, ref s._aFloats, aFloats);
        if (s._bFloats < bFloats) s.B = Grow(s.B, ref s._bFloats, bFloats);
        return s;
    }

    private static float* Grow(float* old, ref nuint capacity, nuint needed)
    {
        NativeMemory.AlignedFree(old);
        capacity = needed;
        return (float*)NativeMemory.AlignedAlloc(needed * sizeof(float), 64);
    }

    ~GemmScratch()
    {
        NativeMemory.AlignedFree(A);
        NativeMemory.AlignedFree(B);
        NativeMemory.AlignedFree(Tile);
    }
}
