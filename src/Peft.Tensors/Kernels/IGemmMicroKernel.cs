namespace Peft.Tensors.Kernels;

/// <summary>
/// A register-blocked GEMM micro-kernel (its cache blocking is <see cref="GemmBlocking"/>). The blocked driver
/// is generic over this interface so the JIT specialises it per kernel and folds MR/NR to constants.
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of C computed per call (height of a packed A sliver).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C computed per call (width of a packed B sliver).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// C[0..MR, 0..NR] = A·B + beta·C over <paramref name="kc"/> steps, where A is an MR-row sliver
    /// packed k-major (MR floats per step) and B an NR-column sliver (NR floats per step, 64-byte
    /// aligned). beta 0 means C is not read.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, float beta);

    /// <summary>
    /// <see cref="Run"/>, also bringing the B sliver at <paramref name="nextB"/> toward L2 at one step of it per step,
    /// for B streaming from memory (a kernel without software prefetch just runs <see cref="Run"/>).
    /// </summary>
    static abstract void RunPrefetching(int kc, float* a, float* b, float* c, nint ldc, float beta, float* nextB);

    /// <summary>The fewest rows, at least <paramref name="rows"/> (below MR), that <see cref="RunRows"/> computes; MR when it has no smaller variant.</summary>
    static abstract int RowsFor(int rows);

    /// <summary>
    /// C[0..rows, 0..NR] = A·B + beta·C for a row count <see cref="RowsFor"/> returned, over an A sliver still packed
    /// with MR floats per step.
    /// </summary>
    static abstract void RunRows(int rows, int kc, float* a, float* b, float* c, nint ldc, float beta);
}
