using System.Runtime.InteropServices;

namespace Peft.Benchmarks;

/// <summary>
/// OpenBLAS (Debian's libopenblas0-pthread) through P/Invoke, the reference the SGEMM kernels are
/// measured against. OPENBLAS_CORETYPE must be in the native environment before the library
/// loads, and .NET's Environment.SetEnvironmentVariable does not reach native getenv, so libc's
/// setenv is called first.
/// </summary>
internal static partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";

    public const int RowMajor = 101;
    public const int NoTrans = 111;
    public const int Trans = 112;

    private static bool s_loaded;

    /// <summary>Selects OpenBLAS's AVX-512 kernels, loads the library and sets its thread count.</summary>
    public static void Initialize(int threads)
    {
        if (!s_loaded)
        {
            _ = setenv("OPENBLAS_CORETYPE", "Cooperlake", 1);
            s_loaded = true;
        }
        openblas_set_num_threads(threads);
    }

    /// <summary>The kernel family OpenBLAS picked, e.g. "Cooperlake".</summary>
    public static string CoreName => Marshal.PtrToStringAnsi(openblas_get_corename()) ?? "?";

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport(Library)]
    private static partial void openblas_set_num_threads(int threads);

    [LibraryImport(Library)]
    private static partial IntPtr openblas_get_corename();

    /// <summary>cblas_sgemm: C = alpha·op(A)·op(B) + beta·C.</summary>
    [LibraryImport(Library)]
    public static unsafe partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
