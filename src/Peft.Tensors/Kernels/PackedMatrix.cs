using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// A right-hand GEMM operand (K×N, as op(B)) packed once into the sliver layout of the active
/// micro-kernel, for weights that are multiplied many times and rarely change (frozen base
/// weights). Multiplying by it skips all B packing; the small-M kernels stream it contiguously.
/// The packed copy does not follow later changes to the source: pack again after modifying it.
/// </summary>
public sealed unsafe class PackedMatrix
{
    private readonly float[] _storage;
    private readonly int _offset;

    private PackedMatrix(int k, int n, GemmIsa isa, int nr, int kc)
    {
        K = k;
        N = n;
        Isa = isa;
        SliverWidth = nr;
        BlockDepth = kc;
        NPad = (n + nr - 1) / nr * nr;
        long floats = PackedFloats(k, n, isa);
        if (floats + 16 > Array.MaxLength)
            throw new ArgumentException($"A {k}×{n} matrix is too large to pack ({floats} floats).");
        // Pinned so the address is stable; over-allocated so the start can be 64-byte aligned.
        _storage = GC.AllocateUninitializedArray<float>((int)floats + 16, pinned: true);
        fixed (float* p = _storage)
            _offset = (int)(((64 - ((nint)p & 63)) & 63) / sizeof(float));
    }

    /// <summary>Depth (rows of op(B)).</summary>
    public int K { get; }

    /// <summary>Columns of op(B) (columns of the product).</summary>
    public int N { get; }

    /// <summary>Micro-kernel family the layout was made for.</summary>
    internal GemmIsa Isa { get; }

    /// <summary>Columns per packed sliver (the kernel's NR).</summary>
    internal int SliverWidth { get; }

    /// <summary>Depth of each packed block (<see cref="GemmBlocking.Kc"/> when it was packed); every block has this sliver stride.</summary>
    internal int BlockDepth { get; }

    /// <summary>N rounded up to <see cref="SliverWidth"/>.</summary>
    internal int NPad { get; }

    /// <summary>First packed float (64-byte aligned; the array is pinned).</summary>
    internal float* Data
    {
        get
        {
            fixed (float* p = _storage) return p + _offset;
        }
    }

    /// <summary>
    /// Packs op(B), a K×N matrix: B itself (stored K×N with row stride <paramref name="ldb"/>) or,
    /// when <paramref name="transposed"/>, Bᵀ of B stored N×K (a PyTorch-layout weight [out, in]).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a stride too small.</exception>
    /// <exception cref="ArgumentException"><paramref name="b"/> is too short for the shape.</exception>
    public static PackedMatrix Pack(bool transposed, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        Gemm.CheckOperand(nameof(b), b.Length, transposed ? n : k, transposed ? k : n, ldb);
        var isa = Gemm.ActiveIsa;
        var (_, nr, kc) = Gemm.Blocking(isa);
        var packed = new PackedMatrix(k, n, isa, nr, kc);
        if (k == 0 || n == 0) return packed;
        fixed (float* src = b)
        {
            // A large weight packs on every worker: decoding's first step packs each frozen weight, and a single
            // thread doing so (copying and first-touching the whole model) was most of a fresh process's first prompt.
            int chunks = (packed.NPad / nr + SliversPerPiece - 1) / SliversPerPiece;
            int depthBlocks = (k + kc - 1) / kc;
            if ((long)k * n < ParallelElements || WorkerPool.Degree == 1 || chunks * depthBlocks == 1)
                PackInto(transposed, k, n, src, ldb, packed.Data, isa);
            else
                WorkerPool.Run(new PackPieces(transposed, k, n, src, ldb, packed, chunks), chunks * depthBlocks);
        }
        return packed;
    }

    // Slivers per parallel piece (a few KB to tens of KB of a depth block each) and the size below which one thread packs.
    private const int SliversPerPiece = 16;
    private const int ParallelElements = 1 << 16;

    /// <summary>One depth block × one run of slivers of <see cref="PackInto"/>'s layout per piece.</summary>
    private sealed class PackPieces(bool transposed, int k, int n, float* source, nint ldb, PackedMatrix packed, int chunks) : ParallelTask
    {
        public override void Execute(int index)
        {
            int nr = packed.SliverWidth, kc = packed.BlockDepth;
            int pc = index / chunks * kc, j0 = index % chunks * SliversPerPiece * nr;
            int depth = Math.Min(kc, k - pc), columns = Math.Min(SliversPerPiece * nr, n - j0);
            if (columns <= 0) return;
            float* block = packed.Data + (nint)pc * packed.NPad + (nint)(j0 / nr) * kc * nr;
            GemmPacking.PackB(nr, transposed, source, ldb, pc, depth, j0, columns, block, (nint)kc * nr);
        }
    }

    /// <summary>Floats a packed K×N operand takes for a kernel family (the <see cref="PackInto"/> layout).</summary>
    internal static long PackedFloats(int k, int n, GemmIsa isa)
    {
        var (_, nr, kc) = Gemm.Blocking(isa);
        return (long)Math.Max(1, (k + kc - 1) / kc) * kc * ((n + nr - 1) / nr * nr);
    }

    /// <summary>
    /// Packs op(B) into <paramref name="dst"/> (64-byte aligned, <see cref="PackedFloats"/> long) for
    /// callers that keep the packed copy in their own buffer for one operation; multiply with
    /// <see cref="Gemm.MultiplyPacked"/>.
    /// </summary>
    internal static void PackInto(bool transposed, int k, int n, float* src, nint ldb, float* dst, GemmIsa isa)
    {
        var (_, nr, kc) = Gemm.Blocking(isa);
        int nPad = (n + nr - 1) / nr * nr;
        for (int pc = 0; pc < k; pc += kc)
        {
            int depth = Math.Min(kc, k - pc);
            GemmPacking.PackB(nr, transposed, src, ldb, pc, depth, 0, n, dst + (nint)pc * nPad, (nint)kc * nr);
        }
    }
}
