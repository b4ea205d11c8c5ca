using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// One planned GEMM call, split into row or column chunks that the worker pool runs in parallel.
/// Each calling thread reuses its own instance, so planning and running allocate nothing.
/// </summary>
internal sealed unsafe class GemmTask : ParallelTask
{
    [ThreadStatic] private static GemmTask? t_instance;

    /// <summary>The calling thread's reusable task.</summary>
    public static GemmTask ForCurrentThread => t_instance ??= new GemmTask();

    /// <summary>The operands of the call being run.</summary>
    public GemmArgs Args;

    /// <summary>Kernel family of the blocked path.</summary>
    public GemmIsa Isa;

    /// <summary>Which loop structure computes the call.</summary>
    public GemmPath Path;

    /// <summary>True: chunks are row ranges of C; false: column ranges.</summary>
    public bool SplitRows;

    /// <summary>Rows or columns per chunk (a multiple of the kernel's tile size).</summary>
    public int ChunkSize;

    /// <inheritdoc />
    public override void Execute(int index)
    {
        int start = index * ChunkSize;
        if (SplitRows) RunRange(start, Math.Min(Args.M, start + ChunkSize), 0, Args.N);
        else RunRange(0, Args.M, start, Math.Min(Args.N, start + ChunkSize));
    }

    /// <summary>Computes rows [m0, m1) × columns [n0, n1) of C on the current thread, the row bias included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunRange(int m0, int m1, int n0, int n1)
    {
        ref readonly GemmArgs g = ref Args;
        switch (Path)
        {
            case GemmPath.SmallDots:
                GemmSmallM.Dots(g.M, n1 - n0, g.K, g.A, g.Lda, g.B + n0 * g.Ldb, g.Ldb, g.C + n0, g.Ldc, g.Alpha, g.Beta);
                break;
            case GemmPath.SmallStrip:
                RunStrips(n0, n1);
                break;
            default:
                switch (Isa)
                {
                    case GemmIsa.Avx512: GemmDriver<GemmMicroKernel512>.Run(g, m0, m1, n0, n1); break;
                    case GemmIsa.Avx2: GemmDriver<GemmMicroKernel256>.Run(g, m0, m1, n0, n1); break;
                    default: GemmDriver<GemmMicroKernelPortable>.Run(g, m0, m1, n0, n1); break;
                }
                break;
        }
        // Each chunk adds the bias to its own part of C, on its own thread: a pass after the product would run on the
        // calling thread alone while the other cores wait (int8 and fp32 prompts: 2-3 % of a prefill's samples). The
        // blocked driver adds it to each tile as it finishes; the few-row paths' C is small enough for a pass here.
        if (g.RowBias is not null && Path != GemmPath.Blocked) AddRowBias(g.RowBias, g.C, g.Ldc, m0, m1, n0, n1);
    }

    /// <summary>
    /// C[i, j] += bias[j] over rows [m0, m1) × columns [n0, n1): a chunk after its product, or a tile of a few rows
    /// right after it is written (no call per row, so a 32- or 64-column tile costs a few vector adds per row).
    /// </summary>
    internal static void AddRowBias(float* bias, float* c, nint ldc, int m0, int m1, int n0, int n1)
    {
        for (int i = m0; i < m1; i++)
        {
            float* ci = c + i * ldc;
            int j = n0;
            if (Vector512.IsHardwareAccelerated)
                for (; j + 16 <= n1; j += 16) Vector512.Store(Vector512.Load(ci + j) + Vector512.Load(bias + j), ci + j);
            for (; j + 8 <= n1; j += 8) Vector256.Store(Vector256.Load(ci + j) + Vector256.Load(bias + j), ci + j);
            for (; j < n1; j++) ci[j] += bias[j];
        }
    }

    /// <summary>Depth of the B row bands the strided small-M path sweeps; 0 = by M (tuned on Zen 4 and Zen 5).</summary>
    internal static int SmallMBand;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunStrips(int n0, int n1)
    {
        ref readonly GemmArgs g = ref Args;
        const int width = GemmSmallM.StripWidth;
        if (g.PackedB is not null)
        {
            // Packed slivers are zero-padded to full width, so the last one may be partial.
            for (int j = n0; j < n1; j += width)
                GemmSmallM.PackedSliver(g.M, g.K, g.A, g.Lda, g.PackedB, g.Kc, g.PackedNPad, j, Math.Min(width, n1 - j), g.C + j, g.Ldc, g.Alpha, g.Beta);
            return;
        }

        // Bands of a few B rows swept across all strips: each band reads B rows sequentially
        // (a full-depth strip would hop one row stride per step and defeat the prefetchers).
        int fullEnd = n0 + (n1 - n0) / width * width;
        // Few rows of A stream B best in shallow bands (more of L1 left for prefetched B lines), the
        // shallower the wider this thread's columns (Zen 4, M = 1: 768 columns 32 GFLOP/s at 16 rows
        // and 25 at 8, 3072 columns 12 at 16 and 23 at 8); at 5-8 rows the C tile's reload per band
        // costs more, and 128-deep bands measured 8-20 % faster than 32 (M = 8, K/N 768-3072).
        int band = SmallMBand > 0 ? SmallMBand : g.M > 4 ? 128 : n1 - n0 > 1024 ? 8 : 16;
        for (int p0 = 0; p0 < g.K; p0 += band)
        {
            int depth = Math.Min(band, g.K - p0);
            float beta = p0 == 0 ? g.Beta : 1f;
            float* bBand = g.B + p0 * g.Ldb;
            for (int j = n0; j < fullEnd; j += width)
                GemmSmallM.Strip(g.M, depth, g.A + p0, g.Lda, bBand + j, g.Ldb, depth, 0, g.C + j, g.Ldc, width, g.Alpha, beta);
        }

        // The last columns of a strided B: a full-width vector read would run past its rows.
        for (int i = 0; i < g.M; i++)
        {
            for (int j = fullEnd; j < n1; j++)
            {
                float s = 0f;
                for (int p = 0; p < g.K; p++) s += g.A[i * g.Lda + p] * g.B[p * g.Ldb + j];
                float* cv = g.C + i * g.Ldc + j;
                *cv = g.Beta == 0f ? g.Alpha * s : g.Alpha * s + g.Beta * *cv;
            }
        }
    }
}
