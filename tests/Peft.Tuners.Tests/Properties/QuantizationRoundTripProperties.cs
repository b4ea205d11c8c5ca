using CsCheck;
using Peft.Tensors.Quantization;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Laws of the int8 and NF4 round trip on random weights of any magnitude: dequantize(quantize(w))
/// is within half a quantization step of w everywhere (so zeros stay zero and no sign flips), and
/// quantize(dequantize(quantize(w))) stores the same codes as quantize(w) (the codes are a fixed point).
/// </summary>
[TestClass]
public sealed class QuantizationRoundTripProperties
{
    private const int Iterations = 2000;

    /// <summary>Half the widest gap between neighbouring NF4 levels (between 0.7229… and 1): the furthest a value can be from its level.</summary>
    private static readonly float Nf4HalfGap = MaxHalfGap();

    private static float MaxHalfGap()
    {
        var levels = Nf4Codebook.Values;
        float gap = 0;
        for (int i = 1; i < levels.Length; i++) gap = MathF.Max(gap, levels[i] - levels[i - 1]);
        return gap / 2;
    }

    /// <summary>|dequantized − w| ≤ scale / 2 per row, where scale = absmax / 127 (plus what rounding the scale itself cost).</summary>
    /// <remarks>Found: rows below ~4e-37 (a subnormal scale, no float reciprocal) quantized zeros and their largest values to -127.</remarks>
    [TestMethod]
    public void Int8DequantizedIsWithinHalfAStepOfTheWeight()
    {
        RandomWeightMatrix.Generate.Sample(w =>
        {
            var q = Int8Matrix.Quantize(w.Tensor());
            var back = q.Dequantize().ToArray();
            for (int r = 0; r < w.Rows; r++)
            {
                float absMax = 0;
                for (int c = 0; c < w.Columns; c++) absMax = MathF.Max(absMax, MathF.Abs(w.Values[r * w.Columns + c]));
                float scale = q.Scales[r];
                // Plus one subnormal step: value·scale is rounded to float's grid, which is coarse below 1e-38.
                double bound = 0.5 * scale + Math.Abs(absMax - 127.0 * scale) + 1e-6 * absMax + float.Epsilon;
                for (int c = 0; c < w.Columns; c++)
                {
                    int i = r * w.Columns + c;
                    if (Math.Abs((double)back[i] - w.Values[i]) > bound)
                        Assert.Fail($"[{r}, {c}]: {w.Values[i]:R} came back as {back[i]:R}; row absmax {absMax:R}, scale {scale:R}, bound {bound:R}.");
                }
            }
        }, iter: Iterations, print: w => w.ToString());
    }

    /// <summary>|dequantized − w| ≤ absmax · (half the widest NF4 gap) per block of 64 (single quantization: the block absmax is stored as is).</summary>
    /// <remarks>Found: blocks below ~3e-39 (no float reciprocal of the absmax) quantized zeros to -1, so they came back as -absmax.</remarks>
    [TestMethod]
    public void Nf4DequantizedIsWithinHalfAGapOfTheWeight()
    {
        RandomWeightMatrix.Generate.Sample(w =>
        {
            var q = Nf4Matrix.Quantize(w.Tensor());
            var back = q.Dequantize().ToArray();
            for (int r = 0; r < w.Rows; r++)
            {
                for (int c = 0; c < w.Columns; c++)
                {
                    int i = r * w.Columns + c;
                    float absMax = q.BlockScale(r, c / Nf4Matrix.BlockSize);
                    // Plus one subnormal step: level·absmax is rounded to float's grid, which is coarse below 1e-38.
                    double bound = absMax * (Nf4HalfGap + 1e-6) + float.Epsilon;
                    if (Math.Abs((double)back[i] - w.Values[i]) > bound)
                        Assert.Fail($"[{r}, {c}]: {w.Values[i]:R} came back as {back[i]:R}; block absmax {absMax:R}, bound {bound:R}.");
                }
            }
        }, iter: Iterations, print: w => w.ToString());
    }

    /// <summary>
    /// The fixed point holds where dequantized values are exact enough to find their code again:
    /// rows of normal magnitude. In the subnormal range level·scale rounds to a grid coarser than
    /// the levels (an absmax of 1e-44 is 7 steps of float.Epsilon), so a code may move; the bound laws cover those rows.
    /// </summary>
    [TestMethod]
    public void Int8CodesAreAFixedPointOfDequantizeThenQuantize()
    {
        RandomWeightMatrix.NormalRange.Sample(w =>
        {
            var once = Int8Matrix.Quantize(w.Tensor());
            var twice = Int8Matrix.Quantize(once.Dequantize());
            var a = new sbyte[w.Rows * w.Columns];
            var b = new sbyte[w.Rows * w.Columns];
            once.CopyValues(a);
            twice.CopyValues(b);
            CollectionAssert.AreEqual(a, b, "int8 values after dequantize and quantize again");
        }, iter: Iterations, print: w => w.ToString());
    }

    /// <summary>As <see cref="Int8CodesAreAFixedPointOfDequantizeThenQuantize"/>, on rows of normal magnitude; the block absmax comes back too.</summary>
    [TestMethod]
    public void Nf4CodesAreAFixedPointOfDequantizeThenQuantize()
    {
        RandomWeightMatrix.NormalRange.Sample(w =>
        {
            var once = Nf4Matrix.Quantize(w.Tensor());
            var twice = Nf4Matrix.Quantize(once.Dequantize());
            CollectionAssert.AreEqual(once.Codes.ToArray(), twice.Codes.ToArray(), "NF4 codes after dequantize and quantize again");
            SameBits.Floats(once.AbsMax, twice.AbsMax, "NF4 block absmax after dequantize and quantize again");
        }, iter: Iterations, print: w => w.ToString());
    }
}
