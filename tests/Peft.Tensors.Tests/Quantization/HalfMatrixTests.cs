using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Tests;

/// <summary>
/// 16-bit weights (<see cref="HalfMatrix"/>): widening is exact (every finite BF16 and F16 pattern), rounding from float32 is
/// to nearest even, and products on every path (direct M ≤ 8 kernels and widened tiles, AVX-512 and portable, 1 and 2
/// threads) equal a double-precision reference on the widened weights within float32 summation error:
/// |y − ref| ≤ 2e-5·Σ|x·w| + 1e-6 (the weights are the same values, only the order of the float32 sums differs).
/// </summary>
[TestClass]
public sealed class HalfMatrixTests
{
    private static readonly (int N, int K)[] WeightShapes = [(1, 1), (5, 7), (33, 65), (70, 130), (13, 300), (257, 200), (40, 96), (3, 768)];
    private static readonly int[] RowCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64];

    public static IEnumerable<object[]> Cases()
    {
        foreach (var format in new[] { QuantizationFormat.BFloat16, QuantizationFormat.Float16 })
            foreach (var path in new[] { "avx512", "portable", "tiles-avx512", "tiles-portable" })
                foreach (int threads in new[] { 1, 2 })
                    yield return [(int)format, path, threads];
    }

    /// <summary>Every 16-bit pattern whose exponent is not all ones: the format's finite values, both zeros and subnormals.</summary>
    private static ushort[] FinitePatterns(QuantizationFormat format)
    {
        ushort exponent = format == QuantizationFormat.BFloat16 ? (ushort)0x7F80 : (ushort)0x7C00;
        return Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & exponent) != exponent).ToArray();
    }

    [TestMethod]
    [DataRow(QuantizationFormat.BFloat16)]
    [DataRow(QuantizationFormat.Float16)]
    public void WideningIsExactForEveryFinitePatternOnBothPaths(QuantizationFormat format)
    {
        var bits = FinitePatterns(format);
        var m = HalfMatrix.FromBits(format, 1, bits.Length, bits);
        foreach (bool avx512 in AvailablePaths())
        {
            var widened = new float[bits.Length];
            unsafe
            {
                fixed (float* d = widened) m.WidenTile(0, 1, 0, bits.Length, d, bits.Length, avx512);
            }
            for (int i = 0; i < bits.Length; i++)
            {
                float expected = format == QuantizationFormat.BFloat16
                    ? BitConverter.Int32BitsToSingle(bits[i] << 16)
                    : (float)BitConverter.UInt16BitsToHalf(bits[i]);
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(widened[i]),
                    $"{format} 0x{bits[i]:X4} (avx512 {avx512}): expected {expected:R} got {widened[i]:R}");
            }
        }
    }

    [TestMethod]
    public void RoundingFromFloat32IsToNearestEven()
    {
        var rng = new Random(5);
        var values = new List<float> { 0f, -0f, 1f, 1.00390625f, 1.01171875f, 65504f, 65519.99f, 6.1035156e-5f, 5.9604645e-8f, 1e-40f, -3.3895314e38f };
        // Exact BF16 midpoints: a kept mantissa plus half an ulp (ties go to the even neighbour).
        for (int i = 0; i < 200; i++) values.Add(BitConverter.Int32BitsToSingle((rng.Next() & 0x7F7F0000) | 0x8000));
        for (int i = 0; i < 20000; i++) values.Add(BitConverter.Int32BitsToSingle(rng.Next() & 0x7F7FFFFF) * (rng.Next(2) == 0 ? 1 : -1));
        for (int i = 0; i < 20000; i++) values.Add((float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 17))));
        foreach (float v in values)
        {
            Assert.IsTrue(HalfMatrix.TryRound(v, QuantizationFormat.BFloat16, out ushort b) || !IsFiniteBf16(ReferenceBFloat16(v)), $"BF16 {v:R}");
            if (IsFiniteBf16(ReferenceBFloat16(v))) Assert.AreEqual(ReferenceBFloat16(v), b, $"BF16 rounding of {v:R}");
            var half = (Half)v;
            Assert.AreEqual(!Half.IsInfinity(half), HalfMatrix.TryRound(v, QuantizationFormat.Float16, out ushort h), $"F16 range of {v:R}");
            if (!Half.IsInfinity(half)) Assert.AreEqual(BitConverter.HalfToUInt16Bits(half), h, $"F16 rounding of {v:R}");
        }
        // Ties: 1 + 2^-8 lies halfway between BF16 1 and 1 + 2^-7, and goes to the even one (1); 1 + 3·2^-8 goes up.
        HalfMatrix.TryRound(1.00390625f, QuantizationFormat.BFloat16, out ushort tie);
        Assert.AreEqual((ushort)0x3F80, tie);
        HalfMatrix.TryRound(1.01171875f, QuantizationFormat.BFloat16, out tie);
        Assert.AreEqual((ushort)0x3F82, tie);
    }

    [TestMethod]
    [DataRow(QuantizationFormat.BFloat16)]
    [DataRow(QuantizationFormat.Float16)]
    public void RoundExactlyKeepsEveryFinitePatternAndRejectsWhatRoundingWouldChange(QuantizationFormat format)
    {
        var patterns = FinitePatterns(format);
        var widened = patterns.Select(b => HalfMatrix.Widen(b, format)).ToArray();
        var exact = HalfMatrix.RoundExactly(Tensor.FromArray(widened, 1, widened.Length), format);
        Assert.IsNotNull(exact, "every finite pattern's value");
        CollectionAssert.AreEqual(patterns, exact.Bits.ToArray(), "the patterns themselves");
        // One value off by a float32 ulp, one past the format's range, one not finite: each makes the weight inexact.
        float pastRange = format == QuantizationFormat.Float16 ? 70000f : float.MaxValue;
        foreach (float bad in new[] { BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1f) + 1), pastRange, float.NaN })
        {
            var values = (float[])widened.Clone();
            values[12345] = bad;
            Assert.IsNull(HalfMatrix.RoundExactly(Tensor.FromArray(values, 1, values.Length), format), $"{format} with {bad:R}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.RoundExactly(Tensor.FromArray(widened, 1, widened.Length), QuantizationFormat.Int8));
    }

    [TestMethod]
    public void RoundRejectsValuesOutsideTheFormatAndBadBitsAreRejected()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.Round(Tensor.FromArray([1f, 70000f], 1, 2), QuantizationFormat.Float16));
        StringAssert.Contains(ex.Message, "65504");
        Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.Round(Tensor.FromArray([float.NaN], 1, 1), QuantizationFormat.BFloat16));
        Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.Round(Tensor.FromArray([1f], 1, 1), QuantizationFormat.Int8));
        ex = Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.FromBits(QuantizationFormat.Float16, 1, 2, [0x3C00, 0x7C00]));
        StringAssert.Contains(ex.Message, "infinite or NaN");
        Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.FromBits(QuantizationFormat.BFloat16, 2, 2, [0x3F80, 0x3F80, 0x3F80]));
    }

    [TestMethod]
    public void StoredTransposedBitsAreTransposedAndByteSizeIsHalfOfFloat32()
    {
        ushort[] stored = [1, 2, 3, 4, 5, 6]; // [in 2, out 3] as GPT-2's Conv1D stores it
        var m = HalfMatrix.FromBits(QuantizationFormat.BFloat16, 3, 2, stored, storedTransposed: true);
        CollectionAssert.AreEqual(new ushort[] { 1, 4, 2, 5, 3, 6 }, m.Bits.ToArray());
        var w = QuantizedMatrixTests.RandomWeight(3, 64, 96);
        var half = QuantizedMatrix.Quantize(w, QuantizationFormat.Float16, false, "test");
        Assert.AreEqual(4L * w.Length / 2, half.ByteSize);
        Assert.AreEqual(QuantizationFormat.Float16, half.Format);
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ForwardMatchesReferenceOnWidenedWeights(int format, string path, int threads)
    {
        using var _ = Force(path, threads);
        var rng = new Random(format * 10 + threads);
        foreach (var (n, k) in WeightShapes)
        {
            var q = HalfMatrix.Round(QuantizedMatrixTests.RandomWeight(n * 7 + k, n, k), (QuantizationFormat)format);
            var wd = q.Dequantize().ToArray();
            foreach (int m in RowCounts)
            {
                var x = RandomArray(rng, m * k);
                var y = new float[m * n];
                Array.Fill(y, float.NaN);
                QuantizedGemm.MultiplyTransposed(m, x, q, y);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double sum = 0, magnitude = 0;
                        for (int p = 0; p < k; p++)
                        {
                            sum += (double)x[i * k + p] * wd[j * k + p];
                            magnitude += Math.Abs((double)x[i * k + p] * wd[j * k + p]);
                        }
                        double err = Math.Abs(sum - y[i * n + j]);
                        if (!(err <= 2e-5 * magnitude + 1e-6))
                            Assert.Fail($"{(QuantizationFormat)format} {path} M={m} N={n} K={k} y[{i},{j}]: expected {sum:G7} got {y[i * n + j]:G7}");
                    }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void InputGradientMatchesReferenceAndAccumulates(int format, string path, int threads)
    {
        using var _ = Force(path, threads);
        var rng = new Random(format * 10 + threads + 1);
        foreach (var (n, k) in WeightShapes)
        {
            var q = HalfMatrix.Round(QuantizedMatrixTests.RandomWeight(n + k, n, k), (QuantizationFormat)format);
            QuantizedInputGradientCheck.Run(q, [1, 2, 3, 4, 5, 8, 9, 64], rng, $"{(QuantizationFormat)format} {path}");
        }
    }

    [TestMethod]
    [DataRow(QuantizationFormat.BFloat16)]
    [DataRow(QuantizationFormat.Float16)]
    public void QuantizedLinearGradientsMatchFiniteDifferences(QuantizationFormat format)
    {
        var q = HalfMatrix.Round(QuantizedMatrixTests.RandomWeight(5, 12, 70, scale: 1f), format);
        var x = Support.GradientCheck.Random(1, -1, 1, 3, 2, 70);
        var bias = Support.GradientCheck.Random(2, -1, 1, 12);
        Support.GradientCheck.Check(inputs => Ops.QuantizedLinear(inputs[0], q, inputs[1]), [x, bias]);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(4)]
    [DataRow(64)]
    public void SteadyStateAllocatesNothing(int m)
    {
        using var _ = Force("avx512", 1);
        var q = HalfMatrix.Round(QuantizedMatrixTests.RandomWeight(1, 256, 192), QuantizationFormat.BFloat16);
        // A kernel that allocated per call would take at least its m×k activations (kilobytes) each time.
        Assert.IsLessThan(1024L, QuantizedGemmAllocations.Quietest(m, q));
    }

    /// <summary>BF16 round to nearest even by exact comparison of the two neighbours (no bit tricks).</summary>
    private static ushort ReferenceBFloat16(float v)
    {
        uint f = BitConverter.SingleToUInt32Bits(v);
        uint down = f & 0xFFFF0000u, up = down + 0x10000u;
        double lo = BitConverter.UInt32BitsToSingle(down), d = v;
        double hi = (up & 0x7F800000u) == 0x7F800000u ? double.CopySign(Math.Pow(2, 128), d) : BitConverter.UInt32BitsToSingle(up);
        double dl = Math.Abs(d - lo), dh = Math.Abs(hi - d);
        return (ushort)((dl < dh || (dl == dh && ((down >> 16) & 1) == 0) ? down : up) >> 16);
    }

    private static bool IsFiniteBf16(ushort bits) => (bits & 0x7F80) != 0x7F80;

    private static IEnumerable<bool> AvailablePaths() => HalfDotKernel.Avx512Supported ? [true, false] : [false];

    private static float[] RandomArray(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>Forces the 16-bit kernel path (direct or tiles, AVX-512 or portable) and a thread limit for this thread until disposed.</summary>
    private static IDisposable Force(string path, int threads)
    {
        if (path.EndsWith("avx512", StringComparison.Ordinal) && !HalfDotKernel.Avx512Supported)
            Assert.Inconclusive("This CPU lacks AVX-512F; the portable cases cover it.");
        HalfDotKernel.t_forcePortable = path.EndsWith("portable", StringComparison.Ordinal);
        QuantizedGemm.ForcedIsa = path.StartsWith("tiles", StringComparison.Ordinal) ? QuantizedIsa.DequantizedTiles : QuantizedIsa.Auto;
        Gemm.MaxThreads = threads;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose()
        {
            HalfDotKernel.t_forcePortable = false;
            QuantizedGemm.ForcedIsa = QuantizedIsa.Auto;
            Gemm.MaxThreads = 0;
        }
    }
}
