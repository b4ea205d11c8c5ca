using Peft.Tensors.Quantization;

namespace Peft.Tensors.Tests;

/// <summary>Quantize/dequantize error bounds and storage round trips of Int8Matrix and Nf4Matrix.</summary>
[TestClass]
public sealed class QuantizedMatrixTests
{
    internal static Tensor RandomWeight(int seed, int rows, int cols, float scale = 0.1f)
    {
        var rng = new Random(seed);
        var v = new float[rows * cols];
        // Gaussian-ish values with a few outliers, like trained weights; row 1 is all zero when it exists.
        for (int i = 0; i < v.Length; i++)
            v[i] = scale * (float)((rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * (rng.Next(50) == 0 ? 6 : 1));
        if (rows > 1) Array.Clear(v, cols, cols);
        return Tensor.FromArray(v, rows, cols);
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(5, 7)]
    [DataRow(33, 130)]
    [DataRow(64, 768)]
    public void Int8ErrorIsAtMostHalfAScale(int rows, int cols)
    {
        var w = RandomWeight(rows * 31 + cols, rows, cols);
        var q = Int8Matrix.Quantize(w);
        var d = q.Dequantize().Span;
        var ws = w.Span;
        for (int r = 0; r < rows; r++)
        {
            float scale = q.Scales[r];
            for (int c = 0; c < cols; c++)
                Assert.IsLessThanOrEqualTo(scale * 0.5f * 1.0001f + 1e-12f, Math.Abs(ws[r * cols + c] - d[r * cols + c]), $"row {r} col {c}");
        }
        Assert.AreEqual(0f, q.Scales[Math.Min(1, rows - 1)] * (rows > 1 ? 1 : 0));
        Assert.AreEqual((long)rows * cols + 4L * rows, q.ByteSize);
    }

    [TestMethod]
    [DataRow(1, 1, false)]
    [DataRow(3, 65, false)]
    [DataRow(17, 200, true)]
    [DataRow(300, 64, true)]
    public void Nf4ValuesAreLevelsTimesBlockScale(int rows, int cols, bool doubleQuantization)
    {
        var w = RandomWeight(rows + cols, rows, cols);
        var q = Nf4Matrix.Quantize(w, doubleQuantization);
        Assert.AreEqual(doubleQuantization, q.DoubleQuantized);
        var levels = Nf4Codebook.Values.ToArray();
        var row = new float[cols];
        var ws = w.Span;
        for (int r = 0; r < rows; r++)
        {
            q.DequantizeRow(r, row);
            for (int c = 0; c < cols; c++)
            {
                float scale = q.BlockScale(r, c / Nf4Matrix.BlockSize);
                Assert.IsTrue(levels.Any(l => l * scale == row[c]), $"row {r} col {c}: {row[c]} is not a level times block scale {scale}");
                // Nearest level: off by at most half the widest gap (0.1519 of [-1, 1]) times the true absmax,
                // plus the rounding of the stored absmax when it is double-quantized.
                float trueAbsMax = 0f;
                int b0 = c / Nf4Matrix.BlockSize * Nf4Matrix.BlockSize;
                for (int j = b0; j < Math.Min(cols, b0 + Nf4Matrix.BlockSize); j++) trueAbsMax = Math.Max(trueAbsMax, Math.Abs(ws[r * cols + j]));
                float bound = 0.5f * 0.3039f * trueAbsMax + Math.Abs(scale - trueAbsMax) + 1e-7f;
                Assert.IsLessThanOrEqualTo(bound, Math.Abs(ws[r * cols + c] - row[c]), $"row {r} col {c}");
            }
        }
        long blocks = (long)rows * q.BlocksPerRow;
        long expectedBytes = blocks * 32 + (doubleQuantization ? blocks + 4 * ((blocks + 255) / 256) + 4 : 4 * blocks);
        Assert.AreEqual(expectedBytes, q.ByteSize);
    }

    /// <summary>
    /// A row or block so small that its scale has no float reciprocal (1/scale is infinite): zeros
    /// stay zero and the largest value keeps its sign. Multiplying by the infinite reciprocal gave
    /// NaN and ±∞, which int8 clamped to -127 and NF4 encoded as -1 (found by QuantizationRoundTripProperties).
    /// </summary>
    [TestMethod]
    public void SubnormalScalesKeepZerosAndSigns()
    {
        var w = Tensor.FromArray([0f, 1e-40f, -5e-41f, -0f], 1, 4);
        var int8 = Int8Matrix.Quantize(w).Dequantize().ToArray();
        var nf4 = Nf4Matrix.Quantize(w).Dequantize().ToArray();
        foreach (var (name, d) in new[] { ("int8", int8), ("nf4", nf4) })
        {
            Assert.AreEqual(0f, d[0], $"{name}: zero");
            Assert.AreEqual(0f, d[3], $"{name}: negative zero");
            Assert.IsGreaterThan(0f, d[1], $"{name}: the largest value stays positive");
            Assert.IsLessThan(0f, d[2], $"{name}: a negative value stays negative");
        }
    }

    [TestMethod]
    public void Nf4MemoryIsUnderAThirdOfFloatAndDoubleQuantizationSavesMore()
    {
        var w = RandomWeight(3, 256, 768);
        long floatBytes = 4L * w.Length;
        var plain = Nf4Matrix.Quantize(w);
        var dq = Nf4Matrix.Quantize(w, doubleQuantization: true);
        Assert.IsLessThan(0.15 * floatBytes, (double)plain.ByteSize);
        Assert.IsLessThan(plain.ByteSize, dq.ByteSize);
        Assert.IsLessThan(0.27 * floatBytes, (double)Int8Matrix.Quantize(w).ByteSize);
    }

    [TestMethod]
    public void StoredFormsRebuildIdenticalMatrices()
    {
        var w = RandomWeight(9, 13, 100);
        var i8 = Int8Matrix.Quantize(w);
        var values = new sbyte[13 * 100];
        i8.CopyValues(values);
        var i8b = Int8Matrix.FromValues(13, 100, values, i8.Scales);
        CollectionAssert.AreEqual(i8.Dequantize().ToArray(), i8b.Dequantize().ToArray());

        var nf = Nf4Matrix.Quantize(w);
        var nfb = Nf4Matrix.FromCodes(13, 100, nf.Codes, nf.AbsMax);
        CollectionAssert.AreEqual(nf.Dequantize().ToArray(), nfb.Dequantize().ToArray());

        var dq = Nf4Matrix.Quantize(w, doubleQuantization: true);
        var dqb = Nf4Matrix.FromCodes(13, 100, dq.Codes, dq.AbsMaxCodes, dq.AbsMaxGroupScales, dq.AbsMaxMean);
        CollectionAssert.AreEqual(dq.Dequantize().ToArray(), dqb.Dequantize().ToArray());
    }

    [TestMethod]
    public void BadInputIsRejectedWithTheShapes()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Int8Matrix.Quantize(Tensor.Zeros(new Shape(2, 3, 4))));
        StringAssert.Contains(ex.Message, "[2, 3, 4]");
        ex = Assert.ThrowsExactly<ArgumentException>(() => Int8Matrix.FromValues(2, 3, new sbyte[5], new float[2]));
        StringAssert.Contains(ex.Message, "[2, 3]");
        ex = Assert.ThrowsExactly<ArgumentException>(() => Nf4Matrix.FromCodes(2, 3, new byte[10], new float[2]));
        StringAssert.Contains(ex.Message, "64 expected");
        Assert.ThrowsExactly<ArgumentException>(() => Nf4Matrix.Quantize(Tensor.FromArray([float.NaN], 1, 1)));
    }
}
