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
    private const int NcTarget = 1024;

    [ThreadStatic] private static float[]? t_packedB;
    [ThreadStatic] private static BlockTask? t_task;

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
        var packedB = Rent(ref t_packedB, Kc * nc);
        var task = t_task ??= new BlockTask();
        fixed (float* bp = packedB)
        {
            for (int jc = 0; jc < n; jc += nc)
            {
                int ncCur = Math.Min(nc, n - jc);
                for (int pc = 0; pc < k; pc += Kc)
                {
                    int kcCur = Math.Min(Kc, k - pc);
                    PackB(transB, b, ldb, pc, jc, kcCur, ncCur, nr, bp);
                    float betaNow = pc == 0 ? beta : 1f;
                    int mBlocks = (m + mc - 1) / mc;
                    int slivers = (ncCur + nr - 1) / nr;
                    int degree = WorkerPool.Degree;
                    long work = (long)m * ncCur * kcCur;
                    // Split N too when there are fewer M blocks than threads; stay serial when small.
                    int nGroups = work < 64L * 64 * 64 || degree == 1 ? 1 : Math.Min(slivers, Math.Max(1, (2 * degree + mBlocks - 1) / mBlocks));
                    task.Set(isa, transA, m, mc, mr, nr, kcCur, pc, jc, ncCur, slivers, nGroups, alpha, betaNow, a, lda, bp, c, ldc);
                    int jobs = mBlocks * nGroups;
                    if (jobs == 1 || work < 64L * 64 * 64) for (int j = 0; j < jobs; j++) task.Execute(j);
                    else WorkerPool.Run(task, jobs);
                }
            }
        }
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

    /// <summary>One job: an MC block of rows against a group of B slivers of the current panel.</summary>
    private sealed class BlockTask : ParallelTask
    {
        [ThreadStatic] private static float[]? t_packedA;
        [ThreadStatic] private static float[]? t_tile;

        private GemmIsa _isa;
        private bool _transA;
        private int _m, _mc, _mr, _nr, _kc, _pc, _jc, _nc, _slivers, _nGroups, _lda, _ldc;
        private float _alpha, _beta;
        private float* _a, _bp, _c;

        public void Set(GemmIsa isa, bool transA, int m, int mc, int mr, int nr, int kc, int pc, int jc, int nc, int slivers, int nGroups,
            float alpha, float beta, float* a, int lda, float* bp, float* c, int ldc)
        {
            _isa = isa; _transA = transA; _m = m; _mc = mc; _mr = mr; _nr = nr; _kc = kc; _pc = pc; _jc = jc; _nc = nc;
            _slivers = slivers; _nGroups = nGroups; _alpha = alpha; _beta = beta; _a = a; _lda = lda; _bp = bp; _c = c; _ldc = ldc;
        }

        public override void Execute(int index)
        {
            int mBlock = index / _nGroups, group = index % _nGroups;
            int ic = mBlock * _mc;
            int mcCur = Math.Min(_mc, _m - ic);
            int sliverStart = (int)((long)_slivers * group / _nGroups);
            int sliverEnd = (int)((long)_slivers * (group + 1) / _nGroups);
            if (sliverStart >= sliverEnd) return;
            var packedA = Rent(ref t_packedA, _mc * _kc);
            var tileBuffer = Rent(ref t_tile, _mr * _nr);
            fixed (float* ap = packedA)
            fixed (float* tile = tileBuffer)
            {
                PackA(_transA, _a, _lda, ic, _pc, mcCur, _kc, _mr, ap);
                for (int s = sliverStart; s < sliverEnd; s++)
                {
                    float* bSliver = _bp + (long)s * _kc * _nr;
                    int j0 = _jc + s * _nr;
                    int w = Math.Min(_nr, _jc + _nc - j0);
                    for (int is_ = 0; is_ < mcCur; is_ += _mr)
                    {
                        float* aSliver = ap + (is_ / _mr) * _kc * _mr;
                        switch (_isa)
                        {
                            case GemmIsa.Avx512: GemmMicroKernels.Kernel512(_kc, aSliver, bSliver, tile); break;
                            case GemmIsa.Avx2: GemmMicroKernels.Kernel256(_kc, aSliver, bSliver, tile); break;
                            default: GemmMicroKernels.KernelPortable(_kc, aSliver, bSliver, tile); break;
                        }
                        int h = Math.Min(_mr, mcCur - is_);
                        Store(tile, h, w, _c + (long)(ic + is_) * _ldc + j0);
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
