using System.Runtime.CompilerServices;

namespace Peft.Tensors.Kernels;

/// <summary>
/// The BLIS loop nest around a micro-kernel: columns in NC panels, depth in KC blocks (B packed
/// once per block), rows in MC blocks (A packed once per block), then NR×MR register tiles. Works
/// on one rectangle of C so parallel chunks each run it on their own part with their own buffers.
/// </summary>
internal static unsafe class GemmDriver<TKernel> where TKernel : IGemmMicroKernel
{
    /// <summary>Columns per packed B panel: Kc×NC floats stay within a slice of L3.</summary>
    private const int NC = 2048;

    /// <summary>Up to this many rows, products with pre-packed B prefetch the next B sliver (measured neutral at 96-128 rows).</summary>
    private const int PrefetchRows = 64;

    /// <summary>Computes rows [m0, m1) × columns [n0, n1) of C; n0 is a multiple of NR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmArgs g, int m0, int m1, int n0, int n1)
    {
        int mr = TKernel.MR, nr = TKernel.NR, kcMax = g.Kc, mcMax = g.Mc;
        int k = g.K;
        int ncMax = Math.Min(NC, RoundUp(n1 - n0, nr));
        var scratch = GemmScratch.Get(
            (nuint)(RoundUp(Math.Min(mcMax, m1 - m0), mr) * Math.Min(kcMax, k)),
            g.PackedB is null ? (nuint)(ncMax * Math.Min(kcMax, k)) : 0);
        float* tile = scratch.Tile;

        for (int jc = n0; jc < n1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n1 - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                float beta = pc == 0 ? g.Beta : 1f;
                // With a single row block every B sliver is used by one sweep of A slivers only, so a
                // transposed B (contiguous along K) is packed just before that sweep, into L1, instead of
                // as a whole panel through L3. A row-major B is packed as a panel, row by row: a sliver at
                // a time would read 32 floats from each of Kc rows a stride apart (M = 128, x·W,
                // 768 × 3072 and 3072 × 768 on Zen 4: 86-91 GFLOP/s per sliver, 92-102 as a panel).
                bool packPerSliver = g.PackedB is null && m1 - m0 <= mcMax && g.TransB;
                float* bPanel;
                nint sliverStride;
                if (g.PackedB is not null)
                {
                    // Pre-packed blocks are laid out with a uniform Kc-deep sliver stride.
                    sliverStride = (nint)kcMax * nr;
                    bPanel = g.PackedB + (nint)pc * g.PackedNPad + (jc / nr) * sliverStride;
                }
                else
                {
                    sliverStride = packPerSliver ? 0 : (nint)kc * nr;
                    bPanel = scratch.B;
                    if (!packPerSliver) GemmPacking.PackB(nr, g.TransB, g.B, g.Ldb, pc, kc, jc, nc, bPanel, sliverStride);
                }

                // Few rows of A and weights packed in advance: B streams from memory once, so each kernel call also
                // prefetches the next sliver (the product is bound by reading B otherwise; see GemmMicroKernel512).
                bool prefetchNext = g.PackedB is not null && m1 - m0 <= PrefetchRows;
                for (int ic = m0; ic < m1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m1 - ic);
                    GemmPacking.PackA(mr, g.TransA, g.A, g.Lda, ic, mc, pc, kc, g.Alpha, scratch.A);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        float* bs = bPanel + (jr / nr) * sliverStride;
                        if (packPerSliver) GemmPacking.PackB(nr, g.TransB, g.B, g.Ldb, pc, kc, jc + jr, ncols, bs, 0);
                        float* cCol = g.C + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int nrows = Math.Min(mr, mc - ir);
                            float* asl = scratch.A + (nint)ir * kc;
                            float* ct = cCol + (nint)(ic + ir) * g.Ldc;
                            if (nrows == mr && ncols == nr)
                            {
                                if (prefetchNext) TKernel.RunPrefetching(kc, asl, bs, ct, g.Ldc, beta, bs + sliverStride);
                                else TKernel.Run(kc, asl, bs, ct, g.Ldc, beta);
                            }
                            else
                            {
                                // An edge: the kernel's fewest rows that cover it, straight into C when they fit exactly.
                                int computed = TKernel.RowsFor(nrows);
                                if (computed == nrows && ncols == nr)
                                {
                                    TKernel.RunRows(computed, kc, asl, bs, ct, g.Ldc, beta);
                                }
                                else
                                {
                                    TKernel.RunRows(computed, kc, asl, bs, tile, nr, 0f);
                                    MergeTile(tile, nr, ct, g.Ldc, nrows, ncols, beta);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Adds the valid corner of an edge tile into C (C is only read when beta is not 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MergeTile(float* tile, nint ldt, float* c, nint ldc, int rows, int cols, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * ldt;
            float* cr = c + r * ldc;
            if (beta == 0f)
                for (int j = 0; j < cols; j++) cr[j] = t[j];
            else
                for (int j = 0; j < cols; j++) cr[j] = t[j] + beta * cr[j];
        }
    }
}
