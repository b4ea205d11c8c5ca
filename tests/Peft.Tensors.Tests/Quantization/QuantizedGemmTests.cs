using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;
using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

/// <summary>
/// QuantizedGemm against a double-precision reference computed on the dequantized weights, for
/// both kernel paths this CPU runs and 1 and 2 threads. Tolerances:
/// float accumulation 2e-5·Σ|x||w| (+1e-6); the int8 direct path also quantizes each activation row
/// to int8 with scale s = max|x|/127, adding at most s/2·Σ_k|w[n, k]| to output n.
/// </summary>
[TestClass]
public sealed class QuantizedGemmTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var isa in new[] { QuantizedIsa.DequantizedTiles, QuantizedIsa.Direct })
            foreach (int threads in new[] { 1, 2 })
                foreach (var format in new[] { "int8", "nf4", "nf4-dq" })
                    yield return [(int)isa, threads, format];
    }

    private static readonly (int N, int K)[] WeightShapes = [(1, 1), (5, 7), (33, 65), (70, 130), (257, 200), (1030, 96)];
    private static readonly int[] RowCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, 130];

    internal static QuantizedMatrix Make(string format, Tensor w) => format switch
    {
        "int8" => Int8Matrix.Quantize(w),
        "nf4" => Nf4Matrix.Quantize(w),
        _ => Nf4Matrix.Quantize(w, doubleQuantization: true),
    };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ForwardMatchesReferenceOnDequantizedWeights(int isa, int threads, string format)
    {
        using var _ = Force((QuantizedIsa)isa, threads);
        var rng = new Random(isa * 100 + threads);
        foreach (var (n, k) in WeightShapes)
        {
            var q = Make(format, QuantizedMatrixTests.RandomWeight(n * 7 + k, n, k));
            var wd = q.Dequantize().ToArray();
            foreach (int m in RowCounts)
            {
                if ((long)m * n * k > 4_000_000) continue;
                var x = RandomArray(rng, m * k);
                var y = new float[m * n];
                Array.Fill(y, float.NaN);
                QuantizedGemm.MultiplyTransposed(m, x, q, y);
                bool activationQuantized = (QuantizedIsa)isa == QuantizedIsa.Direct && q is Int8Matrix;
                for (int i = 0; i < m; i++)
                {
                    double xScale = x.AsSpan(i * k, k).ToArray().Max(Math.Abs) / 127.0;
                    for (int j = 0; j < n; j++)
                    {
                        double sum = 0, magnitude = 0, wAbs = 0;
                        for (int p = 0; p < k; p++)
                        {
                            sum += (double)x[i * k + p] * wd[j * k + p];
                            magnitude += Math.Abs((double)x[i * k + p] * wd[j * k + p]);
                            wAbs += Math.Abs(wd[j * k + p]);
                        }
                        double tol = 2e-5 * magnitude + 1e-6 + (activationQuantized ? 0.5 * xScale * wAbs * 1.001 : 0);
                        double err = Math.Abs(sum - y[i * n + j]);
                        if (!(err <= tol))
                            Assert.Fail($"{format} {(QuantizedIsa)isa} M={m} N={n} K={k} y[{i},{j}]: " +
                                $"expected {sum:G7} got {y[i * n + j]:G7} (tolerance {tol:G3})");
                    }
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void InputGradientMatchesReferenceAndAccumulates(int isa, int threads, string format)
    {
        using var _ = Force((QuantizedIsa)isa, threads);
        var rng = new Random(isa * 10 + threads + 1);
        foreach (var (n, k) in WeightShapes)
        {
            var q = Make(format, QuantizedMatrixTests.RandomWeight(n + k, n, k));
            QuantizedInputGradientCheck.Run(q, [1, 3, 9, 64], rng, format);
        }
    }

    [TestMethod]
    [DataRow("int8")]
    [DataRow("nf4")]
    [DataRow("nf4-dq")]
    public void QuantizedLinearInputAndBiasGradientsMatchFiniteDifferences(string format)
    {
        // The float tile path is smooth in x (no activation rounding), so finite differences apply.
        using var _ = Force(QuantizedIsa.DequantizedTiles, 0);
        var q = Make(format, QuantizedMatrixTests.RandomWeight(5, 12, 70, scale: 1f));
        var x = GradientCheck.Random(1, -1, 1, 3, 2, 70);
        var bias = GradientCheck.Random(2, -1, 1, 12);
        GradientCheck.Check(inputs => Ops.QuantizedLinear(inputs[0], q, inputs[1]), [x, bias]);

        // And the op's output equals the float Linear on the dequantized weight.
        var expected = Ops.Linear(x.Detach(), q.Dequantize(), bias.Detach()).ToArray();
        GradientCheck.AssertClose(expected, Ops.QuantizedLinear(x.Detach(), q, bias.Detach()).ToArray(), atol: 1e-4, rtol: 1e-4, what: format);
    }

    [TestMethod]
    public void DirectAndTilePathsAgreeForNf4AndStayCloseForInt8()
    {
        if (!QuantizedGemm.DirectSupported) Assert.Inconclusive("The direct quantized kernels need AVX-512F and AVX-512BW, which this CPU lacks.");
        var w = QuantizedMatrixTests.RandomWeight(11, 300, 256);
        var x = RandomArray(new Random(4), 3 * 256);
        foreach (var format in new[] { "int8", "nf4" })
        {
            var q = Make(format, w);
            var a = new float[3 * 300];
            var b = new float[3 * 300];
            using (Force(QuantizedIsa.Direct, 0)) QuantizedGemm.MultiplyTransposed(3, x, q, a);
            using (Force(QuantizedIsa.DequantizedTiles, 0)) QuantizedGemm.MultiplyTransposed(3, x, q, b);
            GradientCheck.AssertClose(b, a, atol: format == "int8" ? 0.05 : 1e-4, rtol: 1e-3, what: format);
        }
    }

    /// <summary>The int8 dot steps this CPU runs (one it cannot run is not a test case here, rather than a skipped one).</summary>
    public static IEnumerable<object[]> RunnableInt8Steps() =>
        new[] { Int8DotStep.Vnni512, Int8DotStep.Vnni, Int8DotStep.Widening512, Int8DotStep.Widening256 }.Where(Int8DotKernel.CanRun).Select(s => new object[] { (int)s });

    [TestMethod]
    [DynamicData(nameof(RunnableInt8Steps))]
    public void Int8DirectKernelGivesExactlyTheIntegerProductOfTheQuantizedRows(int step)
    {
        using var _ = Force(QuantizedIsa.Direct, 0);
        Int8DotKernel.t_forcedStep = (Int8DotStep)step;
        try
        {
            // 5 rows × 70 outputs × 100 inputs: partial column groups, padded depth, every row count of a tile; one row (the
            // row-at-a-time path) with an even and an odd count of 32-byte steps (k = 100 pads to 128, k = 70 to 96); two full
            // row tiles over five 64-byte steps (k = 300 pads to 320); three tiles and a leftover row; a full 64-row block
            // (sixteen tiles in one call of the assembled kernel) and a second block of one tile and two leftover rows. From 32
            // rows the AVX512-VNNI step takes the panel kernel: 70 rows (eleven calls of six and one of four) over a whole
            // panel and six columns more; 32 and 45 rows (leftovers of two and three) over two panels and a partly filled
            // vector (150 = 64 + 64 + 22).
            // 130 rows of 600: enough values that two threads quantize half the rows each.
            foreach (var (m, n, k) in new[] { (5, 70, 100), (1, 70, 100), (1, 70, 70), (8, 70, 300), (13, 70, 100), (70, 70, 300), (32, 150, 64), (45, 150, 100), (130, 70, 600) })
                CheckExact(m, n, k);
        }
        finally
        {
            Int8DotKernel.t_forcedStep = null;
        }

        static void CheckExact(int m, int n, int k)
        {
            // k = 100: the quantizer's 32-wide AVX2 loop, then its scalar tail
            var q = Int8Matrix.Quantize(QuantizedMatrixTests.RandomWeight(3, n, k));
            var x = RandomArray(new Random(9), m * k);
            x[7] = 0.5f / 127f * x.AsSpan(0, k).ToArray().Max(Math.Abs) * 127f; // a value on a rounding midpoint
            var y = new float[m * n];
            QuantizedGemm.MultiplyTransposed(m, x, q, y);
            for (int i = 0; i < m; i++)
            {
                float scale = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(x.AsSpan(i * k, k))) / 127f;
                float inv = 1f / scale;
                for (int j = 0; j < n; j++)
                {
                    int total = 0;
                    for (int p = 0; p < k; p++)
                        total += Math.Clamp((int)MathF.Round(x[i * k + p] * inv), -127, 127) * q.PaddedValues[j * q.Stride + p];
                    float expected = total * scale * q.ScaleArray[j];
                    Assert.AreEqual(expected, y[i * n + j], $"{m} rows, k {k}: row {i} output {j}");
                }
            }
        }
    }

    /// <summary>Every forward path (each format, the int8 panel kernel, 16-bit rows, NF4's small-M kernel, the tiles).</summary>
    public static IEnumerable<object[]> BiasCases()
    {
        foreach (var isa in new[] { QuantizedIsa.DequantizedTiles, QuantizedIsa.Direct })
            foreach (int threads in new[] { 1, 2 })
                foreach (var format in new[] { "int8", "nf4", "bf16" })
                    yield return [(int)isa, threads, format];
    }

    [TestMethod]
    [DynamicData(nameof(BiasCases))]
    public void BiasIsAddedToEveryRowAfterTheProduct(int isa, int threads, string format)
    {
        using var _ = Force((QuantizedIsa)isa, threads);
        var rng = new Random(31);
        foreach (var (m, n, k) in new[] { (1, 300, 200), (5, 130, 64), (40, 700, 96), (70, 1030, 128) })
        {
            var w = QuantizedMatrixTests.RandomWeight(n + k, n, k);
            var q = format == "bf16" ? HalfMatrix.Round(w, QuantizationFormat.BFloat16) : Make(format, w);
            var x = RandomArray(rng, m * k);
            var bias = RandomArray(rng, n);
            var expected = new float[m * n];
            QuantizedGemm.MultiplyTransposed(m, x, q, expected);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) expected[i * n + j] += bias[j];
            var actual = new float[m * n];
            Array.Fill(actual, float.NaN);
            QuantizedGemm.MultiplyTransposedAddRow(m, x, q, bias, actual);
            CollectionAssert.AreEqual(expected, actual, $"{format} {(QuantizedIsa)isa} {threads} threads, M={m} N={n} K={k}");
        }
        var small = Make("int8", QuantizedMatrixTests.RandomWeight(2, 4, 6));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => QuantizedGemm.MultiplyTransposedAddRow(2, new float[12], small, new float[3], new float[8]));
        StringAssert.Contains(ex.Message, "bias holds 3 values");
    }

    [TestMethod]
    [DataRow("int8", 1)]
    [DataRow("nf4", 1)]
    [DataRow("int8", 64)]
    [DataRow("nf4", 64)]
    public void SteadyStateAllocatesNothing(string format, int m)
    {
        using var _ = Force(QuantizedIsa.Auto, 1);
        var q = Make(format, QuantizedMatrixTests.RandomWeight(1, 256, 192));
        // A kernel that allocated per call would take at least its m×k activations (kilobytes) each time.
        Assert.IsLessThan(1024L, QuantizedGemmAllocations.Quietest(m, q));
    }

    [TestMethod]
    public void ShapeMismatchNamesTheOpAndShapes()
    {
        var q = Int8Matrix.Quantize(Tensor.Zeros(new Shape(4, 6)));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.QuantizedLinear(Tensor.Zeros(new Shape(2, 5)), q));
        StringAssert.Contains(ex.Message, "QuantizedLinear");
        StringAssert.Contains(ex.Message, "[4, 6]");
        ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.QuantizedLinear(Tensor.Zeros(new Shape(2, 6)), q, Tensor.Zeros(new Shape(3))));
        StringAssert.Contains(ex.Message, "bias");
        Assert.ThrowsExactly<ArgumentException>(() => QuantizedGemm.MultiplyTransposed(2, new float[11], q, new float[8]));
    }

    private static float[] RandomArray(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>Forces a quantized kernel path and a thread limit (0 = all) for this thread until disposed.</summary>
    internal static IDisposable Force(QuantizedIsa isa, int threads)
    {
        if (isa == QuantizedIsa.Direct && !QuantizedGemm.DirectSupported)
            Assert.Inconclusive("The direct quantized kernels need AVX-512F and AVX-512BW, which this CPU lacks.");
        QuantizedGemm.ForcedIsa = isa;
        Gemm.MaxThreads = threads;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose()
        {
            QuantizedGemm.ForcedIsa = QuantizedIsa.Auto;
            Gemm.MaxThreads = 0;
        }
    }
}
