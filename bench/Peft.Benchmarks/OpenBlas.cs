using System.Runtime.InteropServices;

namespace Peft.Benchmarks;

/// <summary>
/// OpenBLAS's cblas_sgemm, the baseline (Debian package libopenblas0-pthread). Only the
/// benchmark project calls it. OPENBLAS_CORETYPE must be set before the library loads to pick
/// its AVX-512 kernels (the machine default, Haswell, is AVX2 only).
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    static OpenBlas()
    {
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is null)
            Environment.SetEnvironmentVariable("OPENBLAS_CORETYPE", "Cooperlake");
    }

    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    private static partial void CblasSgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetThreads(int threads);

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc)
    {
        fixed (float* ap = a)
        fixed (float* bp = b)
        fixed (float* cp = c)
            CblasSgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, 1f, ap, lda, bp, ldb, 0f, cp, ldc);
    }
}
