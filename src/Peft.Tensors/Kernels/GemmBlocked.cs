using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// BLIS-style blocked SGEMM: op(B) is packed per (KC × NC) panel into NR-wide slivers that stay
/// in L2, op(A) per (MC × KC) block into MR-tall slivers that stay in L1/L2, and a register-blocked
/// micro-kernel computes each MR×NR tile. Packing absorbs both transposes, and zero-padding the
/// slivers lets the micro-kernel always compute whole tiles; edges are trimmed when storing.
/// </summary>
internal static unsafe class GemmBlocked
{
    private const int Kc = 256;
    private const int NcTarget = 512;

    [ThreadStatic] private static BlockTask? t_task;
    [ThreadStatic] private static float[]? t_packedB;
    [ThreadStatic] private static float[]? t_packedA;

    public static (int Mr, int Nr) TileOf(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => (GemmMicroKernels.Mr512, GemmMicroKernels.Nr512),
        GemmIsa.Avx2 => (GemmMicroKernels.Mr256, GemmMicroKernels.Nr256),
        _ => (GemmMicroKernels.MrPortable, GemmMicroKernels.NrPortable),
    };

    public static void Multiply(GemmIsa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        var (mr, nr) = TileOf(isa);
        int mc = mr * Math.Max(1, 120 / mr);
        int nc = Math.Min(NcTarget, RoundUp(n, nr));
        int kc = Math.Min(Kc, k);
        bool parallel = (long)m * n * k >= 64L * 64 * 64 && WorkerPool.Degree > 1;
        var packedB = Rent(ref t_packedB, kc * nc);
        var packedA = Rent(ref t_packedA, RoundUp(m, mr) * kc);
        var task = t_task ??= new BlockTask();
        fixed (float* bp = packedB)
        fixed (float* ap = packedA)
        {
            task.Set(isa, transA, transB, m, mc, mr, nr, alpha, a, lda, b, ldb, c, ldc, ap, bp);
            for (int jc = 0; jc < n; jc += nc)
            {
                int ncCur = Math.Min(nc, n - jc);
                for (int pc = 0; pc < k; pc += Kc)
                {
                    int kcCur = Math.Min(Kc, k - pc);
                    // Three phases, each split over the threads: pack B's panel, pack A's rows, multiply.
                    task.SetPanel(jc, ncCur, pc, kcCur, pc == 0 ? beta : 1f, parallel ? WorkerPool.Degree : 1);
                    RunPhase(task, BlockTask.Phase.PackB, (ncCur + nr - 1) / nr, parallel);
                    RunPhase(task, BlockTask.Phase.PackA, (m + mr - 1) / mr, parallel);
                    RunPhase(task, BlockTask.Phase.Compute, task.ComputeJobs, parallel);
                }
            }
        }
    }

    private static void RunPhase(BlockTask task, BlockTask.Phase phase, int count, bool parallel)
    {
        task.CurrentPhase = phase;
        if (!parallel || count == 1) for (int i = 0; i < count; i++) task.Execute(i);
        else WorkerPool.Run(task, count);
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    internal static float[] Rent(ref float[]? slot, int length)
    {
        if (slot is null || slot.Length < length) slot = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return slot;
    }

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] into slivers [sliver][p][nr], zero-padding the last sliver.</summary>
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        for (int js = 0; js < nc; js += nr)
        {
            int w = Math.Min(nr, nc - js);
            float* sliver = dst + (js / nr) * kc * nr;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + js;
                    float* d = sliver + p * nr;
                    new ReadOnlySpan<float>(src, w).CopyTo(new Span<float>(d, w));
                    for (int j = w; j < nr; j++) d[j] = 0f;
                }
            }
            else
            {
                // op(B)[p, j] = B[j, p]: walk each stored row once, scattering with stride nr.
                for (int j = 0; j < nr; j++)
                {
                    if (j < w)
                    {
                        float* src = b + (long)(jc + js + j) * ldb + pc;
                        for (int p = 0; p < kc; p++) sliver[p * nr + j] = src[p];
                    }
                    else for (int p = 0; p < kc; p++) sliver[p * nr + j] = 0f;
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mcCur, pc..pc+kc] into slivers [sliver][p][mr], zero-padding the last.</summary>
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int mcCur, int kc, int mr, float* dst)
    {
        for (int is_ = 0; is_ < mcCur; is_ += mr)
        {
            int h = Math.Min(mr, mcCur - is_);
            float* sliver = dst + (is_ / mr) * kc * mr;
            if (transA)
            {
                // op(A)[i, p] = A[p, i]: rows of the stored A are contiguous in i.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + is_;
                    float* d = sliver + p * mr;
                    for (int i = 0; i < h; i++) d[i] = src[i];
                    for (int i = h; i < mr; i++) d[i] = 0f;
                }
            }
            else
            {
                for (int i = 0; i < mr; i++)
                {
                    if (i < h)
                    {
                        float* src = a + (long)(ic + is_ + i) * lda + pc;
                        for (int p = 0; p < kc; p++) sliver[p * mr + i] = src[p];
                    }
                    else for (int p = 0; p < kc; p++) sliver[p * mr + i] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// The three phases of one (KC × NC) panel: packing B slivers, packing A slivers (one piece
    /// per sliver), and computing tiles, split into jobs of (row block, column range).
    /// </summary>
    private sealed class BlockTask : ParallelTask
    {
        [ThreadStatic] private static float[]? t_tile;

        public enum Phase { PackB, PackA, Compute }

        public Phase CurrentPhase;
        private GemmIsa _isa;
        private bool _transA, _transB;
        private int _m, _mc, _mr, _nr, _lda, _ldb, _ldc;
        private int _jc, _nc, _pc, _kc, _nGroups;
        private float _alpha, _beta;
        private float* _a, _b, _c, _ap, _bp;

        public int ComputeJobs => (_m + _mc - 1) / _mc * _nGroups;

        public void Set(GemmIsa isa, bool transA, bool transB, int m, int mc, int mr, int nr, float alpha,
            float* a, int lda, float* b, int ldb, float* c, int ldc, float* ap, float* bp)
        {
            _isa = isa; _transA = transA; _transB = transB; _m = m; _mc = mc; _mr = mr; _nr = nr; _alpha = alpha;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc; _ap = ap; _bp = bp;
        }

        public void SetPanel(int jc, int nc, int pc, int kc, float beta, int degree)
        {
            _jc = jc; _nc = nc; _pc = pc; _kc = kc; _beta = beta;
            int slivers = (nc + _nr - 1) / _nr;
            int mBlocks = (_m + _mc - 1) / _mc;
            // Enough column groups that every thread has work even with one row block.
            _nGroups = degree == 1 ? 1 : Math.Min(slivers, Math.Max(1, (2 * degree + mBlocks - 1) / mBlocks));
        }

        public override void Execute(int index)
        {
            switch (CurrentPhase)
            {
                case Phase.PackB:
                {
                    int js = index * _nr;
                    PackB(_transB, _b, _ldb, _pc, _jc + js, _kc, Math.Min(_nr, _nc - js), _nr, _bp + (long)index * _kc * _nr);
                    break;
                }
                case Phase.PackA:
                {
                    int i0 = index * _mr;
                    PackA(_transA, _a, _lda, i0, _pc, Math.Min(_mr, _m - i0), _kc, _mr, _ap + (long)index * _kc * _mr);
                    break;
                }
                default:
                    Compute(index);
                    break;
            }
        }

        private void Compute(int index)
        {
            int mBlock = index / _nGroups, group = index % _nGroups;
            int ic = mBlock * _mc, mcCur = Math.Min(_mc, _m - ic);
            int slivers = (_nc + _nr - 1) / _nr;
            int s0 = (int)((long)slivers * group / _nGroups), s1 = (int)((long)slivers * (group + 1) / _nGroups);
            var tileBuffer = Rent(ref t_tile, _mr * _nr);
            fixed (float* tile = tileBuffer)
            {
                for (int s = s0; s < s1; s++)
                {
                    float* bSliver = _bp + (long)s * _kc * _nr;
                    int jr = s * _nr, w = Math.Min(_nr, _nc - jr);
                    for (int ir = 0; ir < mcCur; ir += _mr)
                    {
                        float* aSliver = _ap + (long)((ic + ir) / _mr) * _kc * _mr;
                        switch (_isa)
                        {
                            case GemmIsa.Avx512: GemmMicroKernels.Kernel512(_kc, aSliver, bSliver, tile); break;
                            case GemmIsa.Avx2: GemmMicroKernels.Kernel256(_kc, aSliver, bSliver, tile); break;
                            default: GemmMicroKernels.KernelPortable(_kc, aSliver, bSliver, tile); break;
                        }
                        Store(tile, Math.Min(_mr, mcCur - ir), w, _c + (long)(ic + ir) * _ldc + _jc + jr);
                    }
                }
            }
        }

        private void Store(float* tile, int h, int w, float* c)
        {
            float alpha = _alpha, beta = _beta;
            for (int i = 0; i < h; i++)
            {
                float* row = c + (long)i * _ldc;
                float* t = tile + i * _nr;
                if (beta == 0f) for (int j = 0; j < w; j++) row[j] = alpha * t[j];
                else if (beta == 1f) for (int j = 0; j < w; j++) row[j] += alpha * t[j];
                else for (int j = 0; j < w; j++) row[j] = alpha * t[j] + beta * row[j];
            }
        }
    }
}
