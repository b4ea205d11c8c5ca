using CsCheck;
using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Quantization;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Laws of 16-bit weights: rounding a float32 weight of any magnitude to BF16 or F16 gives the nearest representable value
/// (ties to even; within half a unit in the last place of it, a fixed point when rounded again) or, past the format's
/// range, an error; and a random tiny model whose linear layers are 16-bit is saved as plain 16-bit tensors that load back
/// 16-bit with the same bits and bit-identical logits.
/// </summary>
[TestClass]
public sealed class HalfPrecisionProperties
{
    [TestMethod]
    public void RoundingIsToTheNearestRepresentableValueAndAFixedPoint()
    {
        Gen.Select(RandomWeightMatrix.Generate, Gen.OneOf<QuantizationFormat>(QuantizationFormat.BFloat16, QuantizationFormat.Float16)).Sample((w, format) =>
        {
            double largest = format == QuantizationFormat.BFloat16 ? 3.3895313892515355e38 : 65504;
            // Values at or past halfway to the next power of two beyond the largest finite value round to infinity.
            double overflow = format == QuantizationFormat.BFloat16 ? 3.3961775292304611e38 : 65520;
            if (w.Values.Any(v => Math.Abs(v) >= overflow)) Assert.ThrowsExactly<ArgumentException>(() => HalfMatrix.Round(w.Tensor(), format));
            else AssertNearest(w, format, largest);
        }, iter: 1000);
    }

    [TestMethod]
    public void SavedThenLoaded16BitModelIsTheSame()
    {
        Gen.Select(TinyModelSpec.Generate, Gen.OneOf<QuantizationFormat>(QuantizationFormat.BFloat16, QuantizationFormat.Float16), RandomPrompts.Generate)
            .Sample((spec, format, prompts) =>
            {
                var model = spec.Build();
                int count = model switch
                {
                    CausalLanguageModel causal => ModelQuantization.Quantize(causal, format),
                    T5Model t5 => ModelQuantization.Quantize(t5, format),
                    _ => 0,
                };
                Assert.IsGreaterThan(0, count, "precondition: some layer is 16-bit");
                var folder = Directory.CreateTempSubdirectory("peft-half-property-");
                try
                {
                    var options = new LoadOptions { Quantization = format };
                    ILanguageModel loaded;
                    if (model is T5Model t5Model)
                    {
                        ModelLoader.Save(t5Model, folder.FullName);
                        loaded = ModelLoader.LoadSeq2Seq(folder.FullName, options);
                    }
                    else
                    {
                        ModelLoader.Save((CausalLanguageModel)model, folder.FullName);
                        loaded = ModelLoader.LoadCausal(folder.FullName, options);
                    }
                    Assert.DoesNotContain("quantization_config", File.ReadAllText(Path.Combine(folder.FullName, "config.json")));
                    CollectionAssert.AreEqual(model.Parameters.Quantized.Select(q => q.Name).ToArray(),
                        loaded.Parameters.Quantized.Select(q => q.Name).ToArray(), "16-bit weights");
                    for (int i = 0; i < model.Parameters.Quantized.Count; i++)
                        CollectionAssert.AreEqual(((HalfMatrix)model.Parameters.Quantized[i].Matrix).Bits.ToArray(),
                            ((HalfMatrix)loaded.Parameters.Quantized[i].Matrix).Bits.ToArray(), model.Parameters.Quantized[i].Name);
                    for (int i = 0; i < model.Parameters.All.Count; i++)
                        SameBits.Floats(model.Parameters.All[i].Tensor.Span, loaded.Parameters.All[i].Tensor.Span, model.Parameters.All[i].Name);
                    SameBits.Floats(TinyModelLogits.Of(model, spec, prompts), TinyModelLogits.Of(loaded, spec, prompts), "logits");
                }
                finally
                {
                    folder.Delete(recursive: true);
                }
            }, iter: 100);
    }

    private static void AssertNearest(RandomWeightMatrix w, QuantizationFormat format, double largest)
    {
        var q = HalfMatrix.Round(w.Tensor(), format);
        var back = q.Dequantize().ToArray();
        Assert.AreEqual(2L * w.Rows * w.Columns, q.ByteSize);
        for (int i = 0; i < back.Length; i++)
        {
            double v = w.Values[i], b = back[i];
            // The neighbours of b in the format: no representable value lies strictly closer to v.
            double below = Neighbour(q.Bits[i], format, -1), above = Neighbour(q.Bits[i], format, +1);
            double error = Math.Abs(b - v);
            if (error > Math.Abs(below - v) || error > Math.Abs(above - v) || Math.Abs(b) > largest)
                Assert.Fail($"{format}: {v:R} rounded to {b:R}, but {below:R} or {above:R} is closer.");
            Assert.IsTrue(HalfMatrix.TryRound(back[i], format, out ushort again) && again == q.Bits[i], $"{format}: {b:R} is not a fixed point.");
        }
    }

    /// <summary>The value one step below (-1) or above (+1) a finite 16-bit pattern, ±infinity past the largest.</summary>
    private static double Neighbour(ushort bits, QuantizationFormat format, int direction)
    {
        ushort magnitude = (ushort)(bits & 0x7FFF);
        bool negative = (bits & 0x8000) != 0;
        // Moving up in value is moving away from zero for positives and towards it for negatives.
        int step = negative ? -direction : direction;
        // Past zero: the smallest subnormal of the other sign.
        if (magnitude == 0 && step < 0) return direction * HalfMatrix.Widen(1, format);
        int next = magnitude + step;
        ushort infinity = format == QuantizationFormat.BFloat16 ? (ushort)0x7F80 : (ushort)0x7C00;
        if (next >= infinity) return direction * double.PositiveInfinity;
        double value = HalfMatrix.Widen((ushort)next, format);
        return negative ? -value : value;
    }
}
