namespace Peft.Tensors.Kernels;

/// <summary>
/// One GEMM call's operands as raw pointers (the caller keeps them pinned for the call), shared by
/// every chunk of a parallel run. B is either strided (b, ldb, transB) or pre-packed (packedB).
/// </summary>
internal unsafe struct GemmArgs
{
    public bool TransA;
    public bool TransB;
    public int M;
    public int N;
    public int K;
    public float Alpha;
    public float* A;
    public nint Lda;
    public float* B;
    public nint Ldb;
    public float Beta;
    public float* C;
    public nint Ldc;

    /// <summary>Start of a <see cref="PackedMatrix"/>'s panels, or null when B is strided.</summary>
    public float* PackedB;

    /// <summary>N rounded up to the packed sliver width (row length of a packed block).</summary>
    public int PackedNPad;

    /// <summary>Depth of a packed block: a pre-packed B's own, set by the caller; for a strided B, the thread's blocking.</summary>
    public int Kc;

    /// <summary>Rows of a packed A block.</summary>
    public int Mc;

    /// <summary>Columns of B per block when A slivers sweep a pre-packed B.</summary>
    public int Nc;

    /// <summary>N floats added to every row of C after the product (a Linear layer's bias), or null.</summary>
    public float* RowBias;
}
