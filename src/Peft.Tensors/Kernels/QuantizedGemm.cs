using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Quantization;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Products with a quantized weight W [N = Rows, K = Columns] (Linear layout), for the forward
/// pass (Y = X·Wᵀ) and the input gradient (dX += dY·W). The float matrix is never built: direct
/// kernels read the codes (int8 with AVX512-VNNI, AVX-VNNI, AVX-512BW or AVX2 at every M, NF4 with AVX-512 for M ≤ 6, 16-bit weights
/// for M = 1 forward and M ≤ 8 backward, AVX-512 or portable), and the fallback dequantizes (16-bit: widens) one tile at a time
/// into a per-thread buffer for the float GEMM.
/// </summary>
public static unsafe class QuantizedGemm
{
    // Weights smaller than this (in values) are not worth waking a second thread for at small M.
    private const long ParallelElements = 1L << 17;

    // Work is dealt to threads in units of 64 rows (forward) or 64 columns (input gradient) of W.
    private const int TileRows = 64;
    private const int TileColumns = 64;

    // A dequantized tile holds up to ~2 MB of floats: wide enough that the float GEMM's repacking of
    // the activations (once per tile) stays small next to the multiply, small enough to stay in L2/L3.
    private const int TileFloats = 1 << 19;

    /// <summary>Tile extent (a multiple of 64) along one dimension of W when the other has <paramref name="other"/> values.</summary>
    private static int TileExtent(int other) => Math.Clamp(TileFloats / Math.Max(1, other) / 64 * 64, 64, 1024);

    [ThreadStatic] private static QuantizedIsa t_forcedIsa;

    /// <summary>Kernel choice for calls from the current thread (tests force each path); Auto picks by CPU.</summary>
    internal static QuantizedIsa ForcedIsa
    {
        get => t_forcedIsa;
        set
        {
            if (value == QuantizedIsa.Direct && !DirectSupported)
                throw new PlatformNotSupportedException("The direct quantized kernels need AVX2 (int8) or AVX-512F (NF4), which this CPU lacks.");
            t_forcedIsa = value;
        }
    }

    /// <summary>True when the direct kernels can run here (on .NET 8, int8 still takes the tiles).</summary>
    internal static bool DirectSupported =>
#if NET9_0_OR_GREATER
        Int8DotKernel.Supported || Nf4DirectSupported;
#else
        Nf4DirectSupported;
#endif

    /// <summary>True when the NF4 register-decoding kernel (AVX-512F) can run here.</summary>
    private static bool Nf4DirectSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The path the current thread's calls take.</summary>
    internal static QuantizedIsa ActiveIsa =>
        t_forcedIsa != QuantizedIsa.Auto ? t_forcedIsa : DirectSupported ? QuantizedIsa.Direct : QuantizedIsa.DequantizedTiles;

    /// <summary>
    /// y [m, w.Rows] = x [m, w.Columns] · Wᵀ. For int8 on the direct path the activations are
    /// quantized per row to int8 (absmax / 127), which adds at most scale_x/2 · Σ|w| per output.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short for the shapes.</exception>
    public static void MultiplyTransposed(int m, ReadOnlySpan<float> x, QuantizedMatrix w, Span<float> y) =>
        MultiplyTransposedAddRow(m, x, w, [], y);

    /// <summary>
    /// y [m, w.Rows] = x · Wᵀ + bias (a Linear layer's forward; an empty bias adds nothing): each thread adds the bias
    /// to the columns it computed, so no serial pass over y follows the product.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short for the shapes, or the bias is neither empty nor w.Rows long.</exception>
    internal static void MultiplyTransposedAddRow(int m, ReadOnlySpan<float> x, QuantizedMatrix w, ReadOnlySpan<float> bias, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(w);
        int n = w.Rows, k = w.Columns;
        Check("QuantizedGemm.MultiplyTransposed", m, x.Length, k, "x", w);
        Check("QuantizedGemm.MultiplyTransposed", m, y.Length, n, "y", w);
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"QuantizedGemm.MultiplyTransposed: bias holds {bias.Length} values but weight [{w.Rows}, {w.Columns}] ({w.Format}) needs {n}.", nameof(bias));
        if (m == 0) return;
        var isa = ActiveIsa;
        fixed (float* px = x, py = y, pbias = bias)
        {
            // An empty span pins to null: no bias.
            var output = new ChunkOutput(pbias, py, m);
#if NET9_0_OR_GREATER
            if (isa == QuantizedIsa.Direct && w is Int8Matrix i8 && Int8DotKernel.Supported) { Int8Forward(m, px, i8, py, output); return; }
#endif
            // The 16-bit kernels run on every CPU (AVX-512 or portable): only a forced tile path skips them.
            if (t_forcedIsa != QuantizedIsa.DequantizedTiles && w is HalfMatrix half && m == 1)
            {
                HalfForward(px, half, py, output);
                return;
            }
            if (isa == QuantizedIsa.Direct && w is Nf4Matrix nf4 && m <= Nf4SmallMKernel.RowsPerPass && Nf4DirectSupported)
            {
                Nf4SmallForward(m, px, nf4, py, output);
                return;
            }
            var task = TileForwardTask.ForCurrentThread;
            task.Set(m, px, w, py);
            RunChunks(task, n, TileRows, (long)m * n * k >= (1L << 21) || (long)n * k >= ParallelElements, output);
        }
    }

    /// <summary>dx [m, w.Columns] += dy [m, w.Rows] · W (the input gradient of a Linear layer), at float precision.</summary>
    /// <exception cref="ArgumentException">A span is too short for the shapes.</exception>
    public static void MultiplyAccumulate(int m, ReadOnlySpan<float> dy, QuantizedMatrix w, Span<float> dx)
    {
        ArgumentNullException.ThrowIfNull(w);
        Check("QuantizedGemm.MultiplyAccumulate", m, dy.Length, w.Rows, "dy", w);
        Check("QuantizedGemm.MultiplyAccumulate", m, dx.Length, w.Columns, "dx", w);
        if (m == 0) return;
        fixed (float* pdy = dy, pdx = dx)
        {
            if (t_forcedIsa != QuantizedIsa.DequantizedTiles && w is HalfMatrix half && m <= HalfDotKernel.MaxRows)
            {
                HalfBackward(m, pdy, half, pdx);
                return;
            }
            var task = TileBackwardTask.ForCurrentThread;
            task.Set(m, pdy, w, pdx);
            RunChunks(task, w.Columns, TileColumns, (long)m * w.Rows * w.Columns >= (1L << 21) || (long)w.Rows * w.Columns >= ParallelElements);
        }
    }

    private static void Check(string op, int m, int length, int columns, string name, QuantizedMatrix w)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), $"{op}: row count {m} is negative.");
        if (length < (long)m * columns)
            throw new ArgumentException(
                $"{op}: {name} holds {length} values but {m} rows of {columns} are needed for weight [{w.Rows}, {w.Columns}] ({w.Format}).", name);
    }

#if NET9_0_OR_GREATER
    private static void Int8Forward(int m, float* x, Int8Matrix w, float* y, ChunkOutput output)
    {
        int kp = w.Stride;
        var xq = QuantizedScratch.Bytes((long)m * kp);
        var xs = QuantizedScratch.RowScales(m);
        var step = Int8DotKernel.ActiveStep;
        bool panels = Int8DotKernel.UsesPanels(step, m);
        var corrections = panels ? QuantizedScratch.RowCorrections(m) : null;
        fixed (byte* pq = xq)
        fixed (float* ps = xs)
        fixed (int* pc = corrections)
        fixed (sbyte* pw = w.PaddedValues)
        fixed (float* pws = w.ScaleArray)
        fixed (int* sums = w.RowSums)
        {
            QuantizeRowsTask.Run(m, w.Columns, kp, x, pq, ps, panels ? pc : null);
            var task = Int8Task.ForCurrentThread;
            task.Step = step; task.Panels = panels; task.M = m; task.Kp = kp; task.Xq = pq; task.Xs = ps; task.Corrections = pc;
            task.W = pw; task.Ws = pws; task.Sums = sums; task.Y = y; task.N = w.Rows;
            // Panel chunks are whole 64-column panels where the shape allows.
            RunChunks(task, w.Rows, panels ? Int8VnniPanelKernel.PanelColumns : 4,
                (long)m * w.Rows * kp >= (1L << 22) || (long)w.Rows * kp >= ParallelElements, output);
            task.Xq = null; task.Y = null; task.Corrections = null;
        }
    }
#endif

    private static void HalfForward(float* x, HalfMatrix w, float* y, ChunkOutput output)
    {
        fixed (ushort* bits = w.BitArray)
        {
            var task = HalfForwardTask.ForCurrentThread;
            task.X = x; task.W = bits; task.K = w.Columns; task.Y = y; task.N = w.Rows;
            task.BFloat16 = w.Format == QuantizationFormat.BFloat16; task.Avx512 = HalfDotKernel.UseAvx512;
            RunChunks(task, w.Rows, 4, (long)w.Rows * w.Columns >= ParallelElements, output);
            task.X = null; task.Y = null; task.W = null;
        }
    }

    private static void HalfBackward(int m, float* dy, HalfMatrix w, float* dx)
    {
        fixed (ushort* bits = w.BitArray)
        {
            var task = HalfBackwardTask.ForCurrentThread;
            task.M = m; task.Dy = dy; task.W = bits; task.K = w.Columns; task.Dx = dx; task.N = w.Rows;
            task.BFloat16 = w.Format == QuantizationFormat.BFloat16; task.Avx512 = HalfDotKernel.UseAvx512;
            RunChunks(task, w.Columns, HalfDotKernel.StripColumns, (long)w.Rows * w.Columns >= ParallelElements);
            task.Dy = null; task.Dx = null; task.W = null;
        }
    }

    private static void Nf4SmallForward(int m, float* x, Nf4Matrix w, float* y, ChunkOutput output)
    {
        int k = w.Columns, stride = w.Stride;
        float* xs = x;
        int ldx = k;
        float[]? padded = null;
        if (stride != k)
        {
            // The kernel reads whole 64-value blocks: give it zero-padded copies of the rows.
            padded = QuantizedScratch.Rows((long)m * stride);
            for (int i = 0; i < m; i++)
            {
                new ReadOnlySpan<float>(x + (long)i * k, k).CopyTo(padded.AsSpan(i * stride, k));
                padded.AsSpan(i * stride + k, stride - k).Clear();
            }
            ldx = stride;
        }
        fixed (float* pp = padded)
        fixed (byte* codes = w.CodeArray)
        {
            var task = Nf4Task.ForCurrentThread;
            task.M = m; task.X = padded is null ? xs : pp; task.Ldx = ldx; task.W = w; task.Codes = codes; task.Y = y;
            RunChunks(task, w.Rows, 4, (long)w.Rows * stride >= ParallelElements, output);
            task.W = null; task.X = null; task.Y = null;
        }
    }

    private static void RunChunks(ChunkedTask task, int extent, int unit, bool parallel, ChunkOutput output = default)
    {
        int units = (extent + unit - 1) / unit;
        int chunks = parallel ? Math.Min(Gemm.ThreadsForCall, units) : 1;
        int perChunk = (units + chunks - 1) / chunks;
        task.Extent = extent;
        task.ChunkSize = perChunk * unit;
        task.Output = output;
        int count = (units + perChunk - 1) / perChunk;
        if (count == 1) task.Execute(0);
        else WorkerPool.Run(task, count);
        task.Output = default;
    }

    /// <summary>
    /// Where a forward product's chunks add the bias: y [Rows, Extent] and the bias row (null: none). A chunk computes
    /// columns [start, end) of y for every row and then adds bias[start..end) there, on its own thread; the int8 panel
    /// kernel adds it to each tile as it writes it instead (a chunk's columns over a prompt's rows outgrow L2).
    /// </summary>
    private readonly struct ChunkOutput(float* rowBias, float* y, int rows)
    {
        public float* RowBias { get; } = rowBias;

        public float* Y { get; } = y;

        public int Rows { get; } = rows;
    }

    /// <summary>Work split into ranges [index·ChunkSize, ...) of one dimension.</summary>
    private abstract class ChunkedTask : ParallelTask
    {
        public int Extent;
        public int ChunkSize;
        public ChunkOutput Output;

        public override void Execute(int index)
        {
            int start = index * ChunkSize, end = Math.Min(Extent, start + ChunkSize);
            Run(start, end);
            if (Output.RowBias is not null && !AddsBiasPerTile) GemmTask.AddRowBias(Output.RowBias, Output.Y, Extent, 0, Output.Rows, start, end);
        }

        protected abstract void Run(int start, int end);

        /// <summary>True when <see cref="Run"/> adds <see cref="Output"/>'s bias to each tile it writes.</summary>
        protected virtual bool AddsBiasPerTile => false;
    }

#if NET9_0_OR_GREATER
    /// <summary>
    /// Quantizes the activation rows on every worker (rows are independent): on the calling thread alone it kept the
    /// other core idle for 1-2 % of an int8 prompt pass's samples.
    /// </summary>
    private sealed class QuantizeRowsTask : RangeTask
    {
        [ThreadStatic] private static QuantizeRowsTask? t_instance;

        // Below this many values a second thread costs more than the pass (~8 µs on one core).
        private const long ParallelValues = 1L << 16;

        private int _k, _kp;
        private float* _x, _scales;
        private byte* _xq;
        private int* _corrections;
        private bool _wide;

        public static void Run(int m, int k, int kp, float* x, byte* xq, float* scales, int* corrections)
        {
            var task = t_instance ??= new QuantizeRowsTask();
            task._k = k; task._kp = kp; task._x = x; task._xq = xq; task._scales = scales; task._corrections = corrections;
            task._wide = Int8DotKernel.QuantizesWide;
            task.RunOver(m, 1, (long)m * k >= ParallelValues ? Gemm.ThreadsForCall : 1);
            task._x = null; task._xq = null; task._scales = null; task._corrections = null;
        }

        protected override void Run(int start, int end) =>
            Int8DotKernel.QuantizeRows(end - start, _k, _kp, _x + (long)start * _k, _k, _xq + (long)start * _kp, _scales + start,
                _corrections is null ? null : _corrections + start, _wide);
    }
#endif

#if NET9_0_OR_GREATER
    private sealed class Int8Task : ChunkedTask
    {
        [ThreadStatic] private static Int8Task? t_instance;
        public static Int8Task ForCurrentThread => t_instance ??= new Int8Task();

        public int M, Kp, N;

        // Chosen on the calling thread, so a step a test or benchmark forces there reaches the workers too.
        public Int8DotStep Step;
        public bool Panels;
        public byte* Xq;
        public float* Xs, Ws, Y;
        public sbyte* W;
        public int* Sums, Corrections;

        protected override void Run(int start, int end)
        {
            if (Panels) Int8DotKernel.MultiplyPanels(M, Kp, (sbyte*)Xq, Corrections, Xs, W, Ws, start, end, Y, N, Output.RowBias);
            else Int8DotKernel.Multiply(Step, M, Kp, Xq, Xs, W, Ws, Sums, start, end, Y, N);
        }

        // The panel kernel adds it while each tile is in L1 (prompts); the few-row steps leave it to the chunk.
        protected override bool AddsBiasPerTile => Panels;
    }
#endif

    private sealed class Nf4Task : ChunkedTask
    {
        [ThreadStatic] private static Nf4Task? t_instance;
        public static Nf4Task ForCurrentThread => t_instance ??= new Nf4Task();

        public int M, Ldx;
        public float* X, Y;
        public Nf4Matrix? W;
        public byte* Codes;

        protected override void Run(int start, int end) =>
            Nf4SmallMKernel.Multiply(M, X, Ldx, W!, Codes, start, end, Y, W!.Rows);
    }

    private sealed class HalfForwardTask : ChunkedTask
    {
        [ThreadStatic] private static HalfForwardTask? t_instance;
        public static HalfForwardTask ForCurrentThread => t_instance ??= new HalfForwardTask();

        public int K, N;

        // Chosen on the calling thread, so a path a test forces there reaches the workers too.
        public bool BFloat16, Avx512;
        public float* X, Y;
        public ushort* W;

        protected override void Run(int start, int end)
        {
            if (BFloat16) HalfDotKernel.MultiplyRow<BFloat16Widening>(X, K, W, start, end, Y, Avx512);
            else HalfDotKernel.MultiplyRow<Float16Widening>(X, K, W, start, end, Y, Avx512);
        }
    }

    private sealed class HalfBackwardTask : ChunkedTask
    {
        [ThreadStatic] private static HalfBackwardTask? t_instance;
        public static HalfBackwardTask ForCurrentThread => t_instance ??= new HalfBackwardTask();

        public int M, K, N;
        public bool BFloat16, Avx512;
        public float* Dy, Dx;
        public ushort* W;

        protected override void Run(int start, int end)
        {
            if (BFloat16) HalfDotKernel.MultiplyAccumulate<BFloat16Widening>(M, Dy, N, W, K, start, end, Dx, Avx512);
            else HalfDotKernel.MultiplyAccumulate<Float16Widening>(M, Dy, N, W, K, start, end, Dx, Avx512);
        }
    }

    /// <summary>Widens a tile of W on this worker the way the calling thread chose (16-bit weights), else dequantizes it.</summary>
    private static void FillTile(QuantizedMatrix w, int row0, int rows, int col0, int cols, float* t, int ldt, bool avx512)
    {
        if (w is HalfMatrix half) half.WidenTile(row0, rows, col0, cols, t, ldt, avx512);
        else w.DequantizeTile(row0, rows, col0, cols, t, ldt);
    }

    /// <summary>Y[:, rows of the tile] = X · tileᵀ, one dequantized tile of W rows at a time.</summary>
    private sealed class TileForwardTask : ChunkedTask
    {
        [ThreadStatic] private static TileForwardTask? t_instance;
        public static TileForwardTask ForCurrentThread => t_instance ??= new TileForwardTask();

        private int _m;
        private float* _x, _y;
        private QuantizedMatrix? _w;
        private bool _avx512;

        public void Set(int m, float* x, QuantizedMatrix w, float* y) { _m = m; _x = x; _w = w; _y = y; _avx512 = HalfDotKernel.UseAvx512; }

        protected override void Run(int start, int end)
        {
            var w = _w!;
            int k = w.Columns, n = w.Rows;
            int extent = TileExtent(k);
            var tile = QuantizedScratch.Tile((long)extent * k);
            fixed (float* t = tile)
            {
                for (int j = start; j < end; j += extent)
                {
                    int rows = Math.Min(extent, end - j);
                    FillTile(w, j, rows, 0, k, t, k, _avx512);
                    // Nested inside a worker-pool piece, the GEMM runs on this thread only.
                    Gemm.Multiply(false, true, _m, rows, k, 1f, new ReadOnlySpan<float>(_x, _m * k), k,
                        new ReadOnlySpan<float>(t, rows * k), k, 0f, new Span<float>(_y + j, (_m - 1) * n + rows), n);
                }
            }
        }
    }

    /// <summary>dX[:, tile columns] += dY · tile, one dequantized column tile (all W rows) at a time.</summary>
    private sealed class TileBackwardTask : ChunkedTask
    {
        [ThreadStatic] private static TileBackwardTask? t_instance;
        public static TileBackwardTask ForCurrentThread => t_instance ??= new TileBackwardTask();

        private int _m;
        private float* _dy, _dx;
        private QuantizedMatrix? _w;
        private bool _avx512;

        public void Set(int m, float* dy, QuantizedMatrix w, float* dx) { _m = m; _dy = dy; _w = w; _dx = dx; _avx512 = HalfDotKernel.UseAvx512; }

        protected override void Run(int start, int end)
        {
            var w = _w!;
            int k = w.Columns, n = w.Rows;
            int extent = TileExtent(n);
            var tile = QuantizedScratch.Tile((long)n * extent);
            fixed (float* t = tile)
            {
                for (int c = start; c < end; c += extent)
                {
                    int cols = Math.Min(extent, end - c);
                    FillTile(w, 0, n, c, cols, t, cols, _avx512);
                    Gemm.Multiply(false, false, _m, cols, n, 1f, new ReadOnlySpan<float>(_dy, _m * n), n,
                        new ReadOnlySpan<float>(t, n * cols), cols, 1f, new Span<float>(_dx + c, (_m - 1) * k + cols), k);
                }
            }
        }
    }
}
