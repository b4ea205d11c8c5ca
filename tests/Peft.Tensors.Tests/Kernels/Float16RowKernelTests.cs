using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>
/// The assembled F16 kernels (vcvtph2ps from memory): every finite half widens exactly (alone and inside row sums), sums
/// stay within float32 summation error of a double reference, only the asked rows and elements are written, and the
/// one-row value the greedy screen recomputes is bit for bit the row product's.
/// </summary>
[TestClass]
public sealed unsafe class Float16RowKernelTests
{
    private static void RequireKernel()
    {
        if (!Float16RowKernel.IsAvailable) Assert.Inconclusive("This machine cannot run the assembled F16 kernel (no AVX-512F or no executable pages); the managed path covers it.");
    }

    [TestMethod]
    public void EveryFiniteHalfWidensExactly()
    {
        RequireKernel();
        var patterns = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & 0x7C00) != 0x7C00).ToArray();
        const int k = Float16RowKernel.Step;
        int rows = patterns.Length / k;
        Assert.AreEqual(0, patterns.Length % k, "the finite patterns fill whole rows");
        var y = new float[rows];
        var x = new float[k];
        fixed (ushort* w = patterns)
        fixed (float* px = x, py = y)
        {
            // x = the i-th unit vector: row r's output is its i-th weight, widened, times one.
            for (int i = 0; i < k; i++)
            {
                Array.Clear(x);
                x[i] = 1f;
                Float16RowKernel.Multiply(px, k, w, rows, py);
                for (int r = 0; r < rows; r++)
                {
                    float expected = (float)BitConverter.UInt16BitsToHalf(patterns[r * k + i]);
                    // A sum that starts at +0 turns −0 into +0 (IEEE addition), so zeros compare as values.
                    if (expected == 0f) expected = 0f;
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[r]),
                        $"pattern 0x{patterns[r * k + i]:X4}: {y[r]} instead of {expected}");
                }
            }
        }
    }

    [TestMethod]
    public void WideningGivesEveryFiniteHalfsFloatBitForBit()
    {
        RequireKernel();
        var patterns = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & 0x7C00) != 0x7C00).ToArray();
        var widened = new float[patterns.Length + 1];
        widened[^1] = 7f;
        fixed (ushort* src = patterns)
        fixed (float* dst = widened)
            Float16RowKernel.Widen(src, patterns.Length, dst);
        Assert.AreEqual(7f, widened[^1], "the float after the last one must stay untouched");
        for (int i = 0; i < patterns.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(patterns[i])), BitConverter.SingleToInt32Bits(widened[i]),
                $"pattern 0x{patterns[i]:X4}");
    }

    [TestMethod]
    public void WideningCountsTheKernelCannotTakeAreRefused()
    {
        RequireKernel();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => WidenCount(24));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => WidenCount(0));
        WidenCount(32);
    }

    private static void WidenCount(int count)
    {
        var src = new ushort[32];
        var dst = new float[32];
        fixed (ushort* s = src)
        fixed (float* d = dst)
            Float16RowKernel.Widen(s, count, d);
    }

    [TestMethod]
    [DataRow(32, 1)]
    [DataRow(64, 7)]
    [DataRow(768, 50)]
    [DataRow(3072, 9)]
    public void SumsAreWithinFloat32ErrorOfADoubleReference(int k, int rows)
    {
        RequireKernel();
        var rng = new Random(k + rows);
        var w = new ushort[rows * k];
        for (int i = 0; i < w.Length; i++) w[i] = BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() * 8 - 4));
        var x = Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var y = new float[rows + 1];
        y[rows] = 12345f;
        fixed (ushort* pw = w)
        fixed (float* px = x, py = y)
            Float16RowKernel.Multiply(px, k, pw, rows, py);
        Assert.AreEqual(12345f, y[rows], "the element after the last row must stay untouched");
        for (int r = 0; r < rows; r++)
        {
            double reference = 0, magnitude = 0;
            for (int c = 0; c < k; c++)
            {
                double product = (double)x[c] * (double)BitConverter.UInt16BitsToHalf(w[r * k + c]);
                reference += product;
                magnitude += Math.Abs(product);
            }
            // Any summation order of k float32 terms: |error| ≤ k·2⁻²⁴·Σ|terms| (to first order).
            double bound = k * Math.Pow(2, -24) * magnitude;
            Assert.IsLessThanOrEqualTo(bound, Math.Abs(y[r] - reference), $"row {r}: {y[r]} against {reference}");
        }
    }

    [TestMethod]
    public void OneRowValueIsTheRowProductsValue()
    {
        if (!HalfDotKernel.Avx512Supported) Assert.Inconclusive("This CPU lacks AVX-512F.");
        foreach (int k in new[] { 96, 100 })
        {
            var rng = new Random(k);
            const int rows = 21;
            var w = new ushort[rows * k];
            for (int i = 0; i < w.Length; i++) w[i] = BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() * 2 - 1));
            var x = Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = new float[rows];
            fixed (ushort* pw = w)
            fixed (float* px = x, py = y)
            {
                HalfDotKernel.MultiplyRow<Float16Widening>(px, k, pw, 3, rows, py, avx512: true);
                for (int j = 3; j < rows; j++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(y[j]), BitConverter.SingleToInt32Bits(HalfDotKernel.Dot1<Float16Widening>(k, px, pw + j * k)),
                        $"k {k}, row {j}");
                Assert.AreEqual(0f, y[0] + y[1] + y[2], "rows before the range stay untouched");
            }
        }
    }

    [TestMethod]
    public void ManagedAndAssembledWideningGiveTheSameProductsUpToOrder()
    {
        RequireKernel();
        const int k = 768, rows = 40;
        var rng = new Random(3);
        var w = new ushort[rows * k];
        for (int i = 0; i < w.Length; i++) w[i] = BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() * 2 - 1));
        var x = Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var assembled = new float[rows];
        var managed = new float[rows];
        fixed (ushort* pw = w)
        fixed (float* px = x, pa = assembled, pm = managed)
        {
            HalfDotKernel.MultiplyRow<Float16Widening>(px, k, pw, 0, rows, pa, avx512: true);
            HalfDotKernel.t_managedFloat16 = true;
            try
            {
                HalfDotKernel.MultiplyRow<Float16Widening>(px, k, pw, 0, rows, pm, avx512: HalfDotKernel.Avx512Supported);
            }
            finally
            {
                HalfDotKernel.t_managedFloat16 = false;
            }
        }
        for (int r = 0; r < rows; r++)
        {
            double magnitude = 0;
            for (int c = 0; c < k; c++) magnitude += Math.Abs(x[c] * (double)BitConverter.UInt16BitsToHalf(w[r * k + c]));
            Assert.IsLessThanOrEqualTo(2 * k * Math.Pow(2, -24) * magnitude, Math.Abs(assembled[r] - managed[r]), $"row {r}");
        }
    }

    [TestMethod]
    public void RowLengthsTheKernelCannotTakeAreRefused()
    {
        RequireKernel();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CallWithRowLength(33));
        StringAssert.Contains(error.Message, "multiple of 32");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CallWithRowLength(0));
        Assert.IsFalse(Float16RowKernel.Supports(48));
        Assert.IsTrue(Float16RowKernel.Supports(64));
    }

    private static void CallWithRowLength(int k)
    {
        float x = 0, y = 0;
        ushort w = 0;
        Float16RowKernel.Multiply(&x, k, &w, 1, &y);
    }
}
