using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Tests;

/// <summary>
/// Greedy decoding's argmax over x·Wᵀ through the int8 screen: every float32 logit inside its interval, and the same
/// first maximum as the full product's, including exact ties and near-ties planted below int8's resolution.
/// </summary>
[TestClass]
public sealed class LinearArgMaxTests
{
    // 1003 rows (not a multiple of the 32-column slivers nor of the copy's groups of four), 100 columns (not a multiple of its 32-value steps).
    private const int Vocab = 1003, Hidden = 100;

    private static Tensor FrozenWeight(int seed)
    {
        var rng = new Random(seed);
        var w = new float[Vocab * Hidden];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
        return Tensor.FromArray(w, Vocab, Hidden);
    }

    private static float[] Rows(int seed, int rows, float scale)
    {
        var rng = new Random(seed);
        var x = new float[rows * Hidden];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5) * scale;
        return x;
    }

    private static int[] FullArgMax(Tensor x, Tensor weight)
    {
        var logits = Ops.Linear(x, weight).ToArray();
        int rows = logits.Length / Vocab;
        return [.. Enumerable.Range(0, rows).Select(r => FirstMaximum.IndexOf(logits.AsSpan(r * Vocab, Vocab)))];
    }

    [TestMethod]
    public unsafe void EveryFloatLogitLiesInsideItsScreenedInterval()
    {
        var weight = FrozenWeight(1);
        if (!LogitScreen.Supported)
        {
            // Without AVX-512 nothing is screened: the argmax is the full product's (the other tests).
            Assert.IsFalse(Ops.CanScreen(weight, 1));
            return;
        }
        var screen = LogitScreen.Build(Vocab, Hidden, (row, destination) => weight.Span.Slice(row * Hidden, Hidden).CopyTo(destination))!;
        foreach (float scale in new[] { 0.01f, 1f, 300f })
        {
            var x = Rows(2, 3, scale);
            var exact = Ops.Linear(Tensor.FromArray(x, 3, Hidden), weight).ToArray();
            var padded = new float[3 * screen.Kp];
            for (int r = 0; r < 3; r++) x.AsSpan(r * Hidden, Hidden).CopyTo(padded.AsSpan(r * screen.Kp));
            var approx = new float[3 * Vocab];
            var quantizationErrors = new double[3];
            fixed (float* px = padded, pa = approx) screen.ApproximateAll(3, px, pa, quantizationErrors);
            int tight = 0;
            for (int r = 0; r < 3; r++)
            {
                double norm = Math.Sqrt(x.AsSpan(r * Hidden, Hidden).ToArray().Sum(v => (double)v * v));
                Assert.IsLessThan(1e-3 * norm, quantizationErrors[r], $"scale {scale}, row {r}: the input's int16 error");
                for (int j = 0; j < Vocab; j++)
                {
                    double error = Math.Abs(exact[r * Vocab + j] - approx[r * Vocab + j]);
                    double bound = norm * screen.Bound[j] + quantizationErrors[r] * screen.CopyBound[j];
                    Assert.IsLessThanOrEqualTo(bound, error, $"scale {scale}, row {r}, logit {j}");
                    if (bound < 0.05 * norm * 0.1 * Math.Sqrt(Hidden / 12.0)) tight++;
                }
            }
            // The intervals are narrow against the spread of the logits (‖x‖ · ‖w‖ ≈ ‖x‖ · 0.1 · √(k / 12)): a screen that
            // kept most rows would save nothing.
            Assert.AreEqual(3 * Vocab, tight, $"scale {scale}: intervals wider than 5 % of the logits' spread");
        }
    }

    [TestMethod]
    public void TheScreenedArgMaxIsTheFullProductsFirstMaximumWithTiesAndNearTies()
    {
        var weight = FrozenWeight(3);
        var w = weight.Span;
        // Row 700 repeats row 37 exactly, and row 901 differs from row 37 by one float step in one value: far below an
        // int8 step, so only the float32 products can order them. Inputs aligned with row 37 make these the largest.
        w.Slice(37 * Hidden, Hidden).CopyTo(w.Slice(700 * Hidden, Hidden));
        w.Slice(37 * Hidden, Hidden).CopyTo(w.Slice(901 * Hidden, Hidden));
        w[901 * Hidden + 5] = MathF.BitIncrement(w[901 * Hidden + 5]);
        weight = Tensor.FromArray(w.ToArray(), Vocab, Hidden);
        for (int rows = 1; rows <= 8; rows++)
        {
            var x = Rows(10 + rows, rows, 1f);
            for (int r = 0; r < rows; r += 2)
                for (int c = 0; c < Hidden; c++) x[r * Hidden + c] = 40f * w[37 * Hidden + c] * (r % 4 == 0 ? 1f : -1f) + x[r * Hidden + c] * 0.01f;
            foreach (var shape in new[] { new Shape(rows, Hidden), new Shape(rows, 1, Hidden) })
            {
                var input = Tensor.FromArray(x, [.. shape.ToArray()]);
                var expected = FullArgMax(input, weight);
                var indices = new int[rows];
                Ops.LinearArgMax(input, weight, indices);
                CollectionAssert.AreEqual(expected, indices, $"{rows} rows {shape}");
                bool screens = Ops.CanScreen(weight, rows);
                Assert.AreEqual(LogitScreen.Supported && Gemm.ActiveIsa == GemmIsa.Avx512, screens, $"{rows} rows");
                if (!screens) continue;
                // The screen itself decided (no fallback to the full product) and agreed.
                var screened = new int[rows];
                Assert.IsTrue(Ops.TryScreenedArgMax(input, weight, rows, screened), $"{rows} rows {shape}: the screen gave up");
                CollectionAssert.AreEqual(expected, screened, $"{rows} rows {shape}: screened");
            }
        }
    }

    [TestMethod]
    public void TrainableWeightsNonFiniteInputsAndBadShapesTakeTheFullProductOrThrow()
    {
        var weight = FrozenWeight(4);
        var x = Tensor.FromArray(Rows(5, 1, 1f), 1, Hidden);
        var trainable = Tensor.Parameter(weight.ToArray(), new Shape(Vocab, Hidden));
        Assert.IsFalse(Ops.CanScreen(trainable, 1));
        var indices = new int[1];
        Ops.LinearArgMax(x, trainable, indices);
        CollectionAssert.AreEqual(FullArgMax(x, weight), indices);
        // A NaN input makes every logit NaN: torch.argmax's first NaN, index 0; the screen declines it.
        var nan = Rows(5, 1, 1f);
        nan[3] = float.NaN;
        var nanInput = Tensor.FromArray(nan, 1, Hidden);
        if (Ops.CanScreen(weight, 1)) Assert.IsFalse(Ops.TryScreenedArgMax(nanInput, weight, 1, indices));
        Ops.LinearArgMax(nanInput, weight, indices);
        Assert.AreEqual(0, indices[0]);
        // An infinite weight value: no bound holds, so the screen is refused and the full product decides (+inf's row).
        var infinite = weight.ToArray();
        infinite[123 * Hidden + 7] = float.PositiveInfinity;
        var infiniteWeight = Tensor.FromArray(infinite, Vocab, Hidden);
        var positive = Tensor.FromArray(Enumerable.Repeat(1f, Hidden).ToArray(), 1, Hidden);
        if (Ops.CanScreen(infiniteWeight, 1)) Assert.IsFalse(Ops.TryScreenedArgMax(positive, infiniteWeight, 1, indices));
        Ops.LinearArgMax(positive, infiniteWeight, indices);
        Assert.AreEqual(123, indices[0]);
        Assert.ThrowsExactly<ArgumentException>(() => Ops.LinearArgMax(x, weight, new int[2]));
        Assert.ThrowsExactly<ArgumentException>(() => Ops.LinearArgMax(Tensor.FromArray(new float[7], 1, 7), weight, new int[1]));
    }

    [TestMethod]
    [DataRow("bf16")]
    [DataRow("f16")]
    public void ASixteenBitWeightIsScreenedForOneRowWithTheSameFirstMaximum(string format)
    {
        var kind = format == "bf16" ? QuantizationFormat.BFloat16 : QuantizationFormat.Float16;
        var bits = HalfMatrix.Round(FrozenWeight(6), kind).Bits.ToArray();
        // Row 700 repeats row 37's bits; row 901 is row 37 with one value one 16-bit step larger.
        bits.AsSpan(37 * Hidden, Hidden).CopyTo(bits.AsSpan(700 * Hidden, Hidden));
        bits.AsSpan(37 * Hidden, Hidden).CopyTo(bits.AsSpan(901 * Hidden, Hidden));
        bits[901 * Hidden + 5]++;
        var weight = HalfMatrix.FromBits(kind, Vocab, Hidden, bits);
        var row37 = new float[Hidden];
        weight.DequantizeRow(37, row37);
        foreach (int rows in new[] { 1, 3 })
            foreach (float sign in new[] { 1f, -1f })
            {
                var x = Rows(20 + rows, rows, 1f);
                for (int c = 0; c < Hidden; c++) x[c] = sign * 40f * row37[c] + 0.01f * x[c];
                var input = Tensor.FromArray(x, rows, Hidden);
                var logits = Ops.QuantizedLinear(input, weight).ToArray();
                var expected = Enumerable.Range(0, rows).Select(r => FirstMaximum.IndexOf(logits.AsSpan(r * Vocab, Vocab))).ToArray();
                var indices = new int[rows];
                Ops.QuantizedLinearArgMax(input, weight, indices);
                CollectionAssert.AreEqual(expected, indices, $"{format}, {rows} rows, sign {sign}");
                bool screens = Ops.CanScreen(weight, rows);
                Assert.AreEqual(LogitScreen.Supported && HalfDotKernel.UseAvx512 && rows == 1, screens, $"{format}, {rows} rows");
                if (!screens) continue;
                var screened = new int[rows];
                Assert.IsTrue(Ops.TryScreenedArgMax(input, weight, screened), $"{format}: the screen gave up");
                CollectionAssert.AreEqual(expected, screened, $"{format}, sign {sign}: screened");
            }
        Assert.ThrowsExactly<ArgumentException>(() => Ops.QuantizedLinearArgMax(Tensor.FromArray(new float[Hidden], 1, Hidden), weight, new int[2]));
    }
}
