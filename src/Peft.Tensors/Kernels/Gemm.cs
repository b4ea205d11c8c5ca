using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply: C = alpha · op(A) · op(B) + beta · C, row-major, where
/// op(X) is X or Xᵀ. When beta is 0, C is written without being read (it may hold garbage).
/// Large products run a packed, cache-blocked kernel (AVX-512, AVX2 or portable, picked at run
/// time) on all worker threads; products with at most 8 rows stream B once instead.
/// </summary>
public static unsafe class Gemm
{
    // Below ~2M multiply-adds (≈10 µs on one core) waking a second thread costs more than it saves.
    private const long ParallelWork = 1L << 21;

    // Small-M products are bound by reading B; two cores read faster once B is ~512 KB.
    private const long ParallelSmallMElements = 1L << 17;

    [ThreadStatic] private static GemmIsa t_forcedIsa;
    [ThreadStatic] private static int t_maxThreads;

    /// <summary>
    /// Kernel family used by GEMM calls made from the current thread (tests force each one);
    /// <see cref="GemmIsa.Auto"/> picks the best the CPU supports.
    /// </summary>
    internal static GemmIsa ForcedIsa
    {
        get => t_forcedIsa;
        set
        {
            if (!IsSupported(value)) throw new PlatformNotSupportedException($"GEMM kernel {value} is not supported on this CPU.");
            t_forcedIsa = value;
        }
    }

    /// <summary>Thread limit for GEMM calls made from the current thread; 0 means <see cref="WorkerPool.Degree"/>.</summary>
    internal static int MaxThreads
    {
        get => t_maxThreads;
        set => t_maxThreads = Math.Max(0, value);
    }

    /// <summary>How many threads a call from the current thread may split over (<see cref="MaxThreads"/> capped by the pool).</summary>
    internal static int ThreadsForCall => t_maxThreads > 0 ? Math.Min(t_maxThreads, WorkerPool.Degree) : WorkerPool.Degree;

    /// <summary>The kernel family the current thread's calls use.</summary>
    internal static GemmIsa ActiveIsa => t_forcedIsa != GemmIsa.Auto ? t_forcedIsa : BestIsa;

    private static readonly GemmIsa BestIsa =
        IsSupported(GemmIsa.Avx512) ? GemmIsa.Avx512 : IsSupported(GemmIsa.Avx2) ? GemmIsa.Avx2 : GemmIsa.Portable;

    /// <summary>Whether the CPU can run the given kernel family.</summary>
    internal static bool IsSupported(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        GemmIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>MR and NR of a kernel family and the current thread's block depth for it (<see cref="GemmBlocking"/>).</summary>
    internal static (int Mr, int Nr, int Kc) Blocking(GemmIsa isa)
    {
        var (mr, nr) = isa switch
        {
            GemmIsa.Avx512 => (GemmMicroKernel512.MR, GemmMicroKernel512.NR),
            GemmIsa.Avx2 => (GemmMicroKernel256.MR, GemmMicroKernel256.NR),
            _ => (GemmMicroKernelPortable.MR, GemmMicroKernelPortable.NR),
        };
        return (mr, nr, GemmBlocking.For(isa).Kc);
    }

    /// <summary>Multiplies row-major matrices with leading dimensions (row strides) lda, ldb, ldc.</summary>
    /// <param name="transA">Use Aᵀ: A is stored K×M.</param>
    /// <param name="transB">Use Bᵀ: B is stored N×K.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of C's previous contents (0 = overwrite).</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a stride is smaller than its row.</exception>
    /// <exception cref="ArgumentException">An operand span is too short for its shape and stride.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        CheckOperand(nameof(a), a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand(nameof(b), b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        fixed (float* pa = a, pb = b, pc = c) Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>
    /// C = alpha · op(A) · B + beta · C with B pre-packed (see <see cref="PackedMatrix.Pack"/>);
    /// B is K×N with K = <c>b.K</c> and N = <c>b.N</c>.
    /// </summary>
    /// <param name="transA">Use Aᵀ: A is stored K×M.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">The packed right operand.</param>
    /// <param name="beta">Scale of C's previous contents (0 = overwrite).</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a stride is smaller than its row.</exception>
    /// <exception cref="ArgumentException">An operand span is too short for its shape and stride.</exception>
    public static void Multiply(bool transA, int m, float alpha, ReadOnlySpan<float> a, int lda,
        PackedMatrix b, float beta, Span<float> c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.N, k = b.K;
        CheckOperand(nameof(a), a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        fixed (float* pa = a, pc = c) MultiplyPackedBlocks(transA, m, n, k, alpha, pa, lda, b.Data, b.Isa, b.SliverWidth, b.BlockDepth, beta, pc, ldc);
        // The product reads b's pinned array through a raw pointer: b must outlive it even when the caller's reference
        // was its last (a collection on another thread during the product freed it: a test host crashed in CI).
        GC.KeepAlive(b);
    }

    /// <summary>
    /// C = A · B + bias with B pre-packed: a Linear layer's forward, the bias (empty: none) added to every row of C by
    /// the threads of the product (the blocked driver to each tile after its last depth block, while it is in L1), so no
    /// serial pass over C follows it.
    /// </summary>
    /// <exception cref="ArgumentException">An operand is too short for its shape, or the bias is neither empty nor N long.</exception>
    internal static void MultiplyAddRow(int m, ReadOnlySpan<float> a, int lda, PackedMatrix b, ReadOnlySpan<float> bias, Span<float> c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.N, k = b.K;
        CheckOperand(nameof(a), a.Length, m, k, lda);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        CheckBias(bias, n);
        // An empty span pins to null: no bias.
        fixed (float* pa = a, pc = c, pbias = bias)
            MultiplyPackedBlocks(false, m, n, k, 1f, pa, lda, b.Data, b.Isa, b.SliverWidth, b.BlockDepth, 0f, pc, ldc, pbias);
        // Read through a raw pointer: see Multiply(PackedMatrix).
        GC.KeepAlive(b);
    }

    /// <summary>C = A · op(B) + bias (see the packed overload), B strided.</summary>
    /// <exception cref="ArgumentException">An operand is too short for its shape, or the bias is neither empty nor N long.</exception>
    internal static void MultiplyAddRow(bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        ReadOnlySpan<float> bias, Span<float> c, int ldc)
    {
        CheckOperand(nameof(a), a.Length, m, k, lda);
        CheckOperand(nameof(b), b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        CheckBias(bias, n);
        fixed (float* pa = a, pb = b, pc = c, pbias = bias) Multiply(false, transB, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, ldc, pbias);
    }

    private static void CheckBias(ReadOnlySpan<float> bias, int n)
    {
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"Gemm: bias holds {bias.Length} values but the product has {n} columns.", nameof(bias));
    }

    /// <summary>
    /// C = alpha · op(A) · B + beta · C on the current thread's thread limit, with B packed for
    /// <paramref name="isa"/> (by <see cref="PackedMatrix"/> or <see cref="PackedMatrix.PackInto"/>)
    /// and every operand pinned by the caller. No checks: callers size every operand.
    /// </summary>
    internal static void MultiplyPacked(bool transA, int m, int n, int k, float alpha, float* a, nint lda, float* packedB, GemmIsa isa,
        float beta, float* c, nint ldc)
    {
        var (_, nr, kc) = Blocking(isa);
        MultiplyPackedBlocks(transA, m, n, k, alpha, a, lda, packedB, isa, nr, kc, beta, c, ldc);
    }

    /// <summary>
    /// <see cref="MultiplyPacked(bool, int, int, int, float, float*, nint, float*, GemmIsa, float, float*, nint)"/> for B
    /// packed in slivers of <paramref name="sliverWidth"/> columns and blocks of <paramref name="blockDepth"/> steps.
    /// </summary>
    private static void MultiplyPackedBlocks(bool transA, int m, int n, int k, float alpha, float* a, nint lda, float* packedB, GemmIsa isa,
        int sliverWidth, int blockDepth, float beta, float* c, nint ldc, float* rowBias = null)
    {
        if (m == 0 || n == 0) return;
        var g = new GemmArgs
        {
            TransA = transA, M = m, N = n, K = k, Alpha = alpha, A = a, Lda = lda, Beta = beta, C = c, Ldc = ldc,
            PackedB = packedB, PackedNPad = (n + sliverWidth - 1) / sliverWidth * sliverWidth, Kc = blockDepth, RowBias = rowBias,
        };
        Execute(g, isa);
    }

    /// <summary>
    /// C = alpha · op(A) · op(B) + beta · C (+ <paramref name="rowBias"/> on every row, when not null) on raw pointers the
    /// caller keeps pinned (no checks).
    /// </summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc, float* rowBias = null)
    {
        if (m == 0 || n == 0) return;
        var g = new GemmArgs
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha,
            A = a, Lda = lda, B = b, Ldb = ldb, Beta = beta, C = c, Ldc = ldc, RowBias = rowBias,
        };
        Execute(g, ActiveIsa);
    }

    /// <summary>Throws unless a rows×cols operand with row stride ld fits in length elements.</summary>
    internal static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(name, $"Gemm: operand {name} has a negative dimension ({rows}×{cols}).");
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(name, $"Gemm: row stride {ld} of {name} is smaller than its row length {cols}.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"Gemm: {name} has {length} elements but a {rows}×{cols} operand with row stride {ld} needs {needed}.", name);
    }

    /// <summary>Runs a call with the thread's blocking; a pre-packed B keeps the block depth its caller set in <c>g.Kc</c>.</summary>
    private static void Execute(in GemmArgs g, GemmIsa isa)
    {
        if (g.K == 0 || g.Alpha == 0f)
        {
            ScaleC(g);
            if (g.RowBias is not null) GemmTask.AddRowBias(g.RowBias, g.C, g.Ldc, 0, g.M, 0, g.N);
            return;
        }
        var task = GemmTask.ForCurrentThread;
        task.Args = g;
        // Workers run the chunks, so the calling thread's blocking travels with the operands.
        var blocking = GemmBlocking.For(isa);
        if (g.PackedB is null) task.Args.Kc = blocking.Kc;
        task.Args.Mc = blocking.Mc;
        task.Args.Nc = blocking.Nc;
        task.Isa = isa;
        int threads = ThreadsForCall;

        if (isa == GemmIsa.Avx512 && g.M <= GemmSmallM.MaxRows && !g.TransA)
        {
            bool dots = g.PackedB is null && g.TransB;
            task.Path = dots ? GemmPath.SmallDots : GemmPath.SmallStrip;
            int unit = dots ? GemmSmallM.DotGroup : GemmSmallM.StripWidth;
            int units = (g.N + unit - 1) / unit;
            int chunks = (long)g.N * g.K >= ParallelSmallMElements ? Math.Min(threads, units) : 1;
            RunChunks(task, splitRows: false, g.N, unit, chunks);
            return;
        }

        task.Path = GemmPath.Blocked;
        var (mr, nr, _) = Blocking(isa);
        int rowUnits = (g.M + mr - 1) / mr, colUnits = (g.N + nr - 1) / nr;
        if (threads <= 1 || (long)g.M * g.N * g.K < ParallelWork || Math.Max(rowUnits, colUnits) < 2)
        {
            task.RunRange(0, g.M, 0, g.N);
            return;
        }
        // Split where the chunks come out most even; a column split repacks A per chunk and a row
        // split repacks B, so on a tie rows win when B is pre-packed (nothing to repack) unless it is at least twice
        // as wide as deep: then each row chunk would stream all of that wide B while a column chunk packs only its
        // M x K of A (Zen 5, 2 threads: the gpt2-small LM head, 128-512 rows, +15 %; 768 x 2304 and 768 x 3072 weights
        // +4-8 %, 64 rows +15 %; 3072 x 768 weights lose 5-7 % to columns).
        double rowBalance = Balance(rowUnits, threads), colBalance = Balance(colUnits, threads);
        bool splitRows = g.PackedB is null ? rowBalance > colBalance + 0.03
            : g.N >= 2L * g.K ? rowBalance > colBalance + 0.03
            : rowBalance + 0.03 >= colBalance;
        if (splitRows) RunChunks(task, true, g.M, mr, Math.Min(threads, rowUnits));
        else RunChunks(task, false, g.N, nr, Math.Min(threads, colUnits));
    }

    /// <summary>Fraction of the threads' time spent working when units are dealt out evenly.</summary>
    private static double Balance(int units, int threads) => units / (double)(threads * ((units + threads - 1) / threads));

    private static void RunChunks(GemmTask task, bool splitRows, int extent, int unit, int chunks)
    {
        int units = (extent + unit - 1) / unit;
        int unitsPerChunk = (units + chunks - 1) / chunks;
        task.SplitRows = splitRows;
        task.ChunkSize = unitsPerChunk * unit;
        int count = (units + unitsPerChunk - 1) / unitsPerChunk;
        if (count == 1) task.Execute(0);
        else WorkerPool.Run(task, count);
    }

    /// <summary>C = beta·C for an empty product (k = 0 or alpha = 0); beta 0 clears C without reading it.</summary>
    private static void ScaleC(in GemmArgs g)
    {
        for (int i = 0; i < g.M; i++)
        {
            var row = new Span<float>(g.C + i * g.Ldc, g.N);
            if (g.Beta == 0f) row.Clear();
            else if (g.Beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, g.Beta, row);
        }
    }
}
