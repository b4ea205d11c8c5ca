using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Tests;

[TestClass]
[DoNotParallelize] // Forces the ISA and thread count process-wide.
public sealed class GemmTests
{
    private static IEnumerable<object[]> Cases()
    {
        int[][] shapes = [[1, 1, 1], [7, 13, 5], [1, 96, 64], [3, 50, 17], [8, 33, 40], [9, 31, 70], [12, 32, 256], [300, 257, 129], [130, 70, 600], [64, 1100, 40]];
        foreach (var isa in new[] { GemmIsa.Portable, GemmIsa.Avx2, GemmIsa.Avx512 })
            foreach (var s in shapes)
                yield return [isa, s[0], s[1], s[2]];
    }

    private static float[] Random(int count, int seed)
    {
        var r = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return v;
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesDoubleReferenceForEveryLayoutBetaAndThreadCount(GemmIsa isa, int m, int n, int k)
    {
        if (isa > Gemm.DetectedIsa) return; // this CPU lacks the instructions; the detected path is covered
        try
        {
            Gemm.ForcedIsa = isa;
            foreach (int threads in new[] { 1, 2 })
            {
                WorkerPool.SetMaxDegree(threads);
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        foreach (float beta in new[] { 0f, 1f, 0.5f })
                            Check(ta, tb, m, n, k, beta, extraStride: (m + n) % 3);
            }
        }
        finally
        {
            Gemm.ForcedIsa = null;
            WorkerPool.SetMaxDegree(Environment.ProcessorCount);
        }
    }

    private static void Check(bool ta, bool tb, int m, int n, int k, float beta, int extraStride)
    {
        int lda = (ta ? m : k) + extraStride, ldb = (tb ? k : n) + extraStride, ldc = n + extraStride;
        var a = Random((ta ? k : m) * lda, 1);
        var b = Random((tb ? n : k) * ldb, 2);
        var c = Random(m * ldc, 3);
        if (beta == 0f) for (int i = 0; i < c.Length; i += 7) c[i] = float.NaN; // must not be read
        var original = (float[])c.Clone();
        const float alpha = 0.75f;
        Gemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        double tolerance = 1e-5 * Math.Sqrt(k) * 4;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                double expected = alpha * sum + (beta == 0f ? 0 : beta * (double)original[i * ldc + j]);
                double actual = c[i * ldc + j];
                if (!(Math.Abs(expected - actual) <= tolerance * (1 + Math.Abs(expected))))
                    Assert.Fail($"{Gemm.ActiveIsa} ta={ta} tb={tb} {m}x{n}x{k} beta={beta} threads={WorkerPool.Degree}: C[{i},{j}] expected {expected} got {actual}");
            }
            for (int j = n; j < ldc; j++)
                Assert.AreEqual(original[i * ldc + j], c[i * ldc + j], "padding beyond n must be untouched");
        }
    }

    [TestMethod]
    public void ZeroInnerDimensionScalesC()
    {
        var c = new float[] { 1, 2, float.NaN, 4 };
        Gemm.Multiply(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0f, c, 2);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0 }, c);
        var d = new float[] { 1, 2, 3, 4 };
        Gemm.Multiply(false, false, 2, 2, 0, 1f, [], 1, [], 2, 2f, d, 2);
        CollectionAssert.AreEqual(new float[] { 2, 4, 6, 8 }, d);
    }

    [TestMethod]
    public void ShortSpansAreRejectedWithTheOperandName()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        StringAssert.Contains(ex.Message, "A has 3 elements");
    }
}
