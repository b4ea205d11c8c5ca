using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Products with at most <see cref="MaxRows"/> rows (token-by-token generation): memory-bound,
/// so B is streamed once, split over threads by columns, with every row of A reused from L1.
/// General blocked GEMM (and most BLAS libraries) lose most of their speed here.
/// </summary>
internal static unsafe class GemmSmallM
{
    public const int MaxRows = 8;
    private const int ColumnsPerJob = 64;

    [ThreadStatic] private static SmallTask? t_task;

    public static void Multiply(bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        var task = t_task ??= new SmallTask();
        task.Set(transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        int jobs = (n + ColumnsPerJob - 1) / ColumnsPerJob;
        if ((long)n * k < 32 * 1024) for (int j = 0; j < jobs; j++) task.Execute(j);
        else WorkerPool.Run(task, jobs);
    }

    private sealed class SmallTask : ParallelTask
    {
        private bool _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float _alpha, _beta;
        private float* _a, _b, _c;

        public void Set(bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        {
            _transB = transB; _m = m; _n = n; _k = k; _alpha = alpha; _a = a; _lda = lda; _b = b; _ldb = ldb; _beta = beta; _c = c; _ldc = ldc;
        }

        public override void Execute(int index)
        {
            int j0 = index * ColumnsPerJob, j1 = Math.Min(_n, j0 + ColumnsPerJob);
            if (_transB && _m == 1 && Avx512F.IsSupported) DotRowsSingle512(j0, j1);
            else if (_transB) DotRows(j0, j1);
            else AxpyRows(j0, j1);
        }

        // One row of A (decoding one token): four rows of B at a time give four independent
        // accumulator chains, hiding FMA latency while B streams through once.
        private void DotRowsSingle512(int j0, int j1)
        {
            int k = _k;
            int j = j0;
            for (; j <= j1 - 4; j += 4)
            {
                float* b0 = _b + (long)j * _ldb, b1 = b0 + _ldb, b2 = b1 + _ldb, b3 = b2 + _ldb;
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                int p = 0;
                for (; p <= k - 16; p += 16)
                {
                    var av = Vector512.Load(_a + p);
                    s0 = Avx512F.FusedMultiplyAdd(av, Vector512.Load(b0 + p), s0);
                    s1 = Avx512F.FusedMultiplyAdd(av, Vector512.Load(b1 + p), s1);
                    s2 = Avx512F.FusedMultiplyAdd(av, Vector512.Load(b2 + p), s2);
                    s3 = Avx512F.FusedMultiplyAdd(av, Vector512.Load(b3 + p), s3);
                }
                float r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
                for (; p < k; p++)
                {
                    float av = _a[p];
                    r0 += av * b0[p]; r1 += av * b1[p]; r2 += av * b2[p]; r3 += av * b3[p];
                }
                Write(0, j, r0); Write(0, j + 1, r1); Write(0, j + 2, r2); Write(0, j + 3, r3);
            }
            if (j < j1) DotRows(j, j1);
        }

        // C[i, j] = Σ_p A[i, p]·B[j, p]: one pass over each row of B serves every row of A.
        private void DotRows(int j0, int j1)
        {
            int m = _m, k = _k, w = Vector<float>.Count;
            Span<float> sums = stackalloc float[MaxRows];
            for (int j = j0; j < j1; j++)
            {
                float* bRow = _b + (long)j * _ldb;
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                int p = 0;
                for (; p <= k - w; p += w)
                {
                    var bv = *(Vector<float>*)(bRow + p);
                    s0 += *(Vector<float>*)(_a + p) * bv;
                    if (m > 1) s1 += *(Vector<float>*)(_a + _lda + p) * bv;
                    if (m > 2) s2 += *(Vector<float>*)(_a + 2L * _lda + p) * bv;
                    if (m > 3) s3 += *(Vector<float>*)(_a + 3L * _lda + p) * bv;
                    if (m > 4) s4 += *(Vector<float>*)(_a + 4L * _lda + p) * bv;
                    if (m > 5) s5 += *(Vector<float>*)(_a + 5L * _lda + p) * bv;
                    if (m > 6) s6 += *(Vector<float>*)(_a + 6L * _lda + p) * bv;
                    if (m > 7) s7 += *(Vector<float>*)(_a + 7L * _lda + p) * bv;
                }
                sums[0] = Vector.Sum(s0); sums[1] = Vector.Sum(s1); sums[2] = Vector.Sum(s2); sums[3] = Vector.Sum(s3);
                sums[4] = Vector.Sum(s4); sums[5] = Vector.Sum(s5); sums[6] = Vector.Sum(s6); sums[7] = Vector.Sum(s7);
                for (; p < k; p++)
                    for (int i = 0; i < m; i++) sums[i] += _a[(long)i * _lda + p] * bRow[p];
                for (int i = 0; i < m; i++) Write(i, j, sums[i]);
            }
        }

        // C[i, j0..j1] = Σ_p A[i, p]·B[p, j0..j1]: rows of B are streamed, a column block at a time.
        private void AxpyRows(int j0, int j1)
        {
            int width = j1 - j0, k = _k;
            Span<float> acc = stackalloc float[ColumnsPerJob];
            for (int i = 0; i < _m; i++)
            {
                acc.Clear();
                var accSlice = acc[..width];
                float* aRow = _a + (long)i * _lda;
                for (int p = 0; p < k; p++)
                {
                    var bRow = new ReadOnlySpan<float>(_b + (long)p * _ldb + j0, width);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bRow, aRow[p], accSlice, accSlice);
                }
                for (int j = 0; j < width; j++) Write(i, j0 + j, accSlice[j]);
            }
        }

        private void Write(int i, int j, float value)
        {
            float* target = _c + (long)i * _ldc + j;
            *target = _beta == 0f ? _alpha * value : _alpha * value + _beta * *target;
        }
    }
}
