using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>
/// Gemm.Multiply against a double-precision reference, for every kernel family this CPU runs
/// and for 1 and 2 threads. ISA and thread limits are per calling thread, so these tests can run
/// in parallel with others.
/// </summary>
[TestClass]
public sealed class GemmTests
{
    /// <summary>Every kernel family this CPU runs (a family it cannot run is not a test case here, rather than a skipped one).</summary>
    public static IEnumerable<object[]> IsaAndThreads()
    {
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Portable }.Where(Gemm.IsSupported))
            foreach (int threads in new[] { 1, 2 })
                yield return [(int)isa, threads];
    }

    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (7, 13, 5), (13, 7, 5), (1, 33, 17), (2, 64, 40), (3, 31, 9), (4, 100, 50), (5, 47, 33),
        (6, 70, 128), (7, 129, 64), (8, 96, 31), (9, 65, 19), (12, 32, 16), (25, 67, 401), (37, 130, 1),
        (300, 257, 129), (130, 300, 777),
        // Edge slivers of exactly 4 and 8 rows below full 12-row ones (the AVX-512 kernel's 4- and 8-row variants write C directly).
        (16, 70, 50), (20, 45, 300),
    ];

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void MatchesReferenceForAllTransposesAndBetas(int isa, int threads)
    {
        using var _ = Force((GemmIsa)isa, threads);
        var rng = new Random(isa * 10 + threads);
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (float beta in new[] { 0f, 1f, 0.5f })
                        CheckCase(rng, ta, tb, m, n, k, alpha: 1f, beta, pad: 0);
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void HonoursLeadingDimensionsAndAlpha(int isa, int threads)
    {
        using var _ = Force((GemmIsa)isa, threads);
        var rng = new Random(7);
        foreach (var (m, n, k) in new[] { (1, 40, 20), (8, 33, 70), (9, 50, 21), (61, 45, 300) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckCase(rng, ta, tb, m, n, k, alpha: -0.75f, beta: 0f, pad: 3);
                    CheckCase(rng, ta, tb, m, n, k, alpha: 2f, beta: 0.5f, pad: 5);
                }
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void EmptyInnerDimensionScalesC(int isa, int threads)
    {
        using var _ = Force((GemmIsa)isa, threads);
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Multiply(false, false, 2, 3, 0, 1f, [], 1, [], 3, 0.5f, c, 3);
        CollectionAssert.AreEqual(new float[] { 0.5f, 1, 1.5f, 2, 2.5f, 3 }, c);
        c.AsSpan().Fill(float.NaN);
        Gemm.Multiply(true, true, 2, 3, 0, 1f, [], 2, [], 1, 0f, c, 3);
        CollectionAssert.AreEqual(new float[6], c);
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void PackedMatrixMatchesUnpacked(int isa, int threads)
    {
        using var _ = Force((GemmIsa)isa, threads);
        var rng = new Random(11);
        // (40, 1100, 96) and (150, 700, 64): at least twice as wide as deep, so two threads split the columns of the packed
        // matrix (one block of rows, then more rows than one block).
        foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 768, 300), (3, 45, 800), (8, 100, 97), (9, 33, 16), (20, 64, 500), (128, 200, 770), (300, 70, 129), (40, 1100, 96), (150, 700, 64) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (float beta in new[] { 0f, 0.5f })
                    {
                        var a = RandomArray(rng, m * k);
                        var b = RandomArray(rng, k * n);
                        int lda = ta ? m : k, ldb = tb ? k : n;
                        var packed = PackedMatrix.Pack(tb, k, n, b, ldb);
                        var expected = RandomArray(rng, m * n);
                        var actual = (float[])expected.Clone();
                        if (beta == 0f) actual.AsSpan().Fill(float.NaN);
                        Gemm.Multiply(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, expected, n);
                        Gemm.Multiply(ta, m, 1.5f, a, lda, packed, beta, actual, n);
                        AssertClose(expected, actual, k, $"packed m={m} n={n} k={k} ta={ta} tb={tb} beta={beta}");
                    }
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void MultiplyAddRowGivesTheProductThenTheBiasOnEveryRow(int isa, int threads)
    {
        using var _ = Force((GemmIsa)isa, threads);
        var rng = new Random(23);
        // Small-M dots and strips (strided and packed), blocked products too small to split, and products that two
        // threads split by rows (300 x 70) or by columns (40 x 1100 packed): each chunk adds the bias to its own part;
        // depths of several blocks (900, 800; 700 rows sweep blocks of a packed B), where only the last block adds it.
        foreach (var (m, n, k) in new[] { (1, 70, 33), (5, 100, 64), (8, 40, 300), (20, 45, 30), (300, 70, 129), (130, 300, 200), (40, 1100, 96), (50, 100, 900), (700, 90, 800) })
        {
            var a = RandomArray(rng, m * k);
            var w = RandomArray(rng, n * k);
            var bias = RandomArray(rng, n);
            var packedW = PackedMatrix.Pack(true, k, n, w, k);
            // The same floats as the product followed by the bias (a packed B may sum in another order than a strided one).
            var expected = new float[m * n];
            var expectedPacked = new float[m * n];
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, w, k, 0f, expected, n);
            Gemm.Multiply(false, m, 1f, a, k, packedW, 0f, expectedPacked, n);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    expected[i * n + j] += bias[j];
                    expectedPacked[i * n + j] += bias[j];
                }
            var strided = new float[m * n];
            Array.Fill(strided, float.NaN);
            Gemm.MultiplyAddRow(true, m, n, k, a, k, w, k, bias, strided, n);
            CollectionAssert.AreEqual(expected, strided, $"strided m={m} n={n} k={k}");
            var packed = new float[m * n];
            Array.Fill(packed, float.NaN);
            Gemm.MultiplyAddRow(m, a, k, packedW, bias, packed, n);
            CollectionAssert.AreEqual(expectedPacked, packed, $"packed m={m} n={n} k={k}");
        }
        // An empty inner dimension leaves the bias alone on every row.
        var c = new float[] { 9, 9, 9, 9 };
        Gemm.MultiplyAddRow(false, 2, 2, 0, [], 1, [], 2, [1f, 2f], c, 2);
        CollectionAssert.AreEqual(new float[] { 1, 2, 1, 2 }, c);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Gemm.MultiplyAddRow(false, 2, 3, 2, new float[4], 2, new float[6], 3, new float[2], new float[6], 3));
        StringAssert.Contains(ex.Message, "bias");
    }

    [TestMethod]
    public void RejectsOperandsTooShortForTheirShape()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() =>
            Gemm.Multiply(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        StringAssert.Contains(ex.Message, "a has 3 elements");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Gemm.Multiply(false, false, 2, 2, 2, 1f, new float[4], 1, new float[4], 2, 0f, new float[4], 2));
    }

    internal static void CheckCase(Random rng, bool ta, bool tb, int m, int n, int k, float alpha, float beta, int pad)
    {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        var a = RandomArray(rng, Math.Max(0, (ta ? k : m) * lda));
        var b = RandomArray(rng, Math.Max(0, (tb ? n : k) * ldb));
        var c = RandomArray(rng, m * ldc);
        var expected = new double[m * ldc];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n) { expected[i * ldc + j] = c[i * ldc + j]; continue; }
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                expected[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * (double)c[i * ldc + j]);
            }
        if (beta == 0f)
            for (int i = 0; i < m; i++) c.AsSpan(i * ldc, n).Fill(float.NaN);
        Gemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        string label = $"m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta} pad={pad} isa={Gemm.ActiveIsa}";
        double tol = 1e-5 * Math.Sqrt(Math.Max(k, 1)) * 4;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - c[i]);
            Assert.IsLessThanOrEqualTo(tol * (1 + Math.Abs(expected[i])), diff, $"{label}: element {i} is {c[i]}, expected {expected[i]}");
        }
    }

    internal static void AssertClose(float[] expected, float[] actual, int k, string label)
    {
        double tol = 1e-5 * Math.Sqrt(Math.Max(k, 1)) * 4;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)expected[i] - actual[i]);
            Assert.IsLessThanOrEqualTo(tol * (1 + Math.Abs(expected[i])), diff, $"{label}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    }

    internal static float[] RandomArray(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Forces a kernel family and thread limit for this thread until disposed.</summary>
    internal static IDisposable Force(GemmIsa isa, int threads)
    {
        if (!Gemm.IsSupported(isa)) throw new InvalidOperationException($"{isa} kernels are not supported on this CPU; test only the families it runs.");
        Gemm.ForcedIsa = isa;
        Gemm.MaxThreads = threads;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose()
        {
            Gemm.ForcedIsa = GemmIsa.Auto;
            Gemm.MaxThreads = 0;
        }
    }
}
