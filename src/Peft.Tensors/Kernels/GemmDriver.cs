using System.Runtime.CompilerServices;

namespace Peft.Tensors.Kernels;

/// <summary>
/// The BLIS loop nests around a micro-kernel. Works on one rectangle of C so parallel chunks each run it on their own
/// part with their own buffers. Two orders (see <see cref="GemmBlocking"/>): columns in NC panels, depth in Kc blocks (B
/// packed once per block), rows in Mc blocks (A packed once per block), each B sliver swept across the block's A slivers
/// (for one block of rows against a row-major B, depth outermost and B packed in L2-sized blocks of Nc columns instead);
/// or, for pre-packed B over more rows than one A block, rows in panels of several A blocks, each A sliver swept across
/// an L2-sized block of Nc columns of B.
/// </summary>
internal static unsafe class GemmDriver<TKernel> where TKernel : IGemmMicroKernel
{
    /// <summary>Columns per packed B panel: Kc×NC floats stay within a slice of L3.</summary>
    private const int NC = 2048;

    /// <summary>A blocks per A panel when A slivers sweep B blocks (Zen 4: 4 x 144 rows best of 576, 1152 and all rows).</summary>
    private const int PanelBlocks = 4;

    /// <summary>Computes rows [m0, m1) × columns [n0, n1) of C; n0 is a multiple of NR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmArgs g, int m0, int m1, int n0, int n1)
    {
        // Pre-packed B over more than one A block: the other order reads each B block from memory once per A panel
        // into L2, where the first order streams the whole B panel through L3 once per A block (Zen 4, 512-2048 rows:
        // +1-5 % per product; in training this is the LM-head loss's 288-row logits products). One block of rows
        // against a pre-packed B (a 128-token prompt, whose weights come from DRAM) keeps the first order.
        // A B packed per call: over one block of rows, a row-major B (x·W; a column chunk of one on two threads) is
        // packed in L2-sized blocks, since a whole 2048-column panel spills to L3 and its writes there cost more than
        // the copy (Zen 5, M = 64-128: PackB 15-23 % of the time -> 11-14 %, +5-25 % per product). Over several row
        // blocks (training's Linear layers) the first order's panel, reused across them, wins: tried at 512 rows with A
        // packed once per depth block, -2-7 % but +2-5 % at 768 x 3072; the other order measured mixed too.
        if (g.PackedB is not null && m1 - m0 > g.Mc) SweepBlocksOfB(g, m0, m1, n0, n1);
        else if (g.PackedB is null && !g.TransB && m1 - m0 <= g.Mc) SweepOneBlockOfA(g, m0, m1, n0, n1);
        else SweepBlocksOfA(g, m0, m1, n0, n1);
    }

    /// <summary>
    /// One block of rows against a row-major B packed per call: A packed once per depth block, B in L2-sized blocks
    /// of Nc columns, each swept across the whole of A.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SweepOneBlockOfA(in GemmArgs g, int m0, int m1, int n0, int n1)
    {
        int mr = TKernel.MR, nr = TKernel.NR, kcMax = g.Kc, k = g.K, mc = m1 - m0;
        int ncMax = Math.Min(RoundUp(g.Nc, nr), RoundUp(n1 - n0, nr));
        var scratch = GemmScratch.Get((nuint)(RoundUp(mc, mr) * Math.Min(kcMax, k)), (nuint)(ncMax * Math.Min(kcMax, k)));
        float* tile = scratch.Tile;
        for (int pc = 0; pc < k; pc += kcMax)
        {
            int kc = Math.Min(kcMax, k - pc);
            float beta = pc == 0 ? g.Beta : 1f;
            bool lastDepth = pc + kc >= k;
            nint sliverStride = (nint)kc * nr;
            GemmPacking.PackA(mr, g.TransA, g.A, g.Lda, m0, mc, pc, kc, g.Alpha, scratch.A);
            for (int jc = n0; jc < n1; jc += ncMax)
            {
                int nc = Math.Min(ncMax, n1 - jc);
                GemmPacking.PackB(nr, false, g.B, g.Ldb, pc, kc, jc, nc, scratch.B, sliverStride);
                for (int jr = 0; jr < nc; jr += nr)
                {
                    int ncols = Math.Min(nr, nc - jr);
                    float* bs = scratch.B + (jr / nr) * sliverStride;
                    float* cCol = g.C + jc + jr;
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int nrows = Math.Min(mr, mc - ir);
                        float* asl = scratch.A + (nint)ir * kc;
                        float* ct = cCol + (nint)(m0 + ir) * g.Ldc;
                        if (nrows == mr && ncols == nr) TKernel.Run(kc, asl, bs, ct, g.Ldc, beta);
                        else RunEdge(kc, asl, bs, ct, g.Ldc, beta, nrows, ncols, tile);
                        if (lastDepth && g.RowBias != null) GemmTask.AddRowBias(g.RowBias + jc + jr, ct, g.Ldc, 0, nrows, 0, ncols);
                    }
                }
            }
        }
    }

    /// <summary>Each B sliver swept across an L2-resident block of A slivers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SweepBlocksOfA(in GemmArgs g, int m0, int m1, int n0, int n1)
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
                bool lastDepth = pc + kc >= k;
                // With a single row block every B sliver is used by one sweep of A slivers only, so a
                // transposed B (contiguous along K) is packed just before that sweep, into L1, instead of
                // as a whole panel through L3. (A row-major B over one row block takes SweepOneBlockOfA: a
                // sliver at a time would read 32 floats from each of Kc rows a stride apart, M = 128, x·W,
                // 768 × 3072 and 3072 × 768 on Zen 4: 86-91 GFLOP/s per sliver, 92-102 as a panel.)
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

                // Weights packed in advance over one block of rows: B streams from memory once, so each kernel call also
                // prefetches the next sliver (the product is bound by reading B otherwise; see GemmMicroKernel512).
                // Zen 4 measured it neutral past 64 rows; Zen 5's kernel, twice as fast, gains at every row count up to
                // Mc (2 threads, 96-256 rows of gpt2-small's weights: +4-10 %, the LM head +9 %).
                bool prefetchNext = g.PackedB is not null;
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
                                RunEdge(kc, asl, bs, ct, g.Ldc, beta, nrows, ncols, tile);
                            }
                            if (lastDepth && g.RowBias != null) GemmTask.AddRowBias(g.RowBias + jc + jr, ct, g.Ldc, 0, nrows, 0, ncols);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Each A sliver swept across an L2-resident block of Nc columns of a pre-packed B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SweepBlocksOfB(in GemmArgs g, int m0, int m1, int n0, int n1)
    {
        int mr = TKernel.MR, nr = TKernel.NR, kcMax = g.Kc, k = g.K;
        int panelRows = Math.Min(PanelBlocks * g.Mc, m1 - m0);
        int ncMax = Math.Min(RoundUp(g.Nc, nr), RoundUp(n1 - n0, nr));
        var scratch = GemmScratch.Get((nuint)(RoundUp(panelRows, mr) * Math.Min(kcMax, k)), 0);
        float* tile = scratch.Tile;
        // Pre-packed blocks are laid out with a uniform Kc-deep sliver stride.
        nint sliverStride = (nint)kcMax * nr;
        for (int ic = m0; ic < m1; ic += panelRows)
        {
            int mc = Math.Min(panelRows, m1 - ic);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                float beta = pc == 0 ? g.Beta : 1f;
                bool lastDepth = pc + kc >= k;
                GemmPacking.PackA(mr, g.TransA, g.A, g.Lda, ic, mc, pc, kc, g.Alpha, scratch.A);
                for (int jc = n0; jc < n1; jc += ncMax)
                {
                    int nc = Math.Min(ncMax, n1 - jc);
                    float* bBlock = g.PackedB + (nint)pc * g.PackedNPad + (jc / nr) * sliverStride;
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int nrows = Math.Min(mr, mc - ir);
                        float* asl = scratch.A + (nint)ir * kc;
                        float* cRow = g.C + (nint)(ic + ir) * g.Ldc + jc;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int ncols = Math.Min(nr, nc - jr);
                            float* bs = bBlock + (jr / nr) * sliverStride;
                            if (nrows == mr && ncols == nr) TKernel.Run(kc, asl, bs, cRow + jr, g.Ldc, beta);
                            else RunEdge(kc, asl, bs, cRow + jr, g.Ldc, beta, nrows, ncols, tile);
                            if (lastDepth && g.RowBias != null) GemmTask.AddRowBias(g.RowBias + jc + jr, cRow + jr, g.Ldc, 0, nrows, 0, ncols);
                        }
                    }
                }
            }
        }
    }

    /// <summary>An edge tile: the kernel's fewest rows that cover it, straight into C when they fit exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunEdge(int kc, float* asl, float* bs, float* ct, nint ldc, float beta, int nrows, int ncols, float* tile)
    {
        int computed = TKernel.RowsFor(nrows);
        if (computed == nrows && ncols == TKernel.NR)
        {
            TKernel.RunRows(computed, kc, asl, bs, ct, ldc, beta);
        }
        else
        {
            TKernel.RunRows(computed, kc, asl, bs, tile, TKernel.NR, 0f);
            MergeTile(tile, TKernel.NR, ct, ldc, nrows, ncols, beta);
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
