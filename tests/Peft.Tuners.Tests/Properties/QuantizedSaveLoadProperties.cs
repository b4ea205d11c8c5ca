using CsCheck;
using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Save → load is the identity for quantized bases: a random tiny model whose linear layers are
/// quantized (int8, NF4, double-quantized NF4; some kept float; weights of any magnitude, zero
/// rows), written by ModelLoader.Save and read back by ModelLoader.Load*, has the same quantized
/// codes and scales, the same float parameters bit for bit and bit-identical logits.
/// </summary>
[TestClass]
public sealed class QuantizedSaveLoadProperties
{
    private const int Iterations = 200;

    [TestMethod]
    public void SavedThenLoadedQuantizedModelIsTheSame()
    {
        Gen.Select(TinyModelSpec.Generate, RandomQuantization.Generate, RandomPrompts.Generate).Sample((spec, quantization, prompts) =>
        {
            var model = spec.Build();
            int quantized = quantization.Apply(model, spec);
            Assert.IsGreaterThan(0, quantized, "precondition: some layer is quantized");
            var folder = Directory.CreateTempSubdirectory("peft-quantized-property-");
            try
            {
                ILanguageModel loaded;
                if (model is T5Model t5)
                {
                    ModelLoader.Save(t5, folder.FullName);
                    loaded = ModelLoader.LoadSeq2Seq(folder.FullName);
                }
                else
                {
                    ModelLoader.Save((CausalLanguageModel)model, folder.FullName);
                    loaded = ModelLoader.LoadCausal(folder.FullName);
                }

                CollectionAssert.AreEqual(model.Parameters.Quantized.Select(q => q.Name).ToArray(), loaded.Parameters.Quantized.Select(q => q.Name).ToArray(),
                    "quantized weights");
                for (int i = 0; i < model.Parameters.Quantized.Count; i++)
                    SameQuantized(model.Parameters.Quantized[i].Matrix, loaded.Parameters.Quantized[i].Matrix, model.Parameters.Quantized[i].Name);
                CollectionAssert.AreEqual(model.Parameters.All.Select(p => p.Name).ToArray(), loaded.Parameters.All.Select(p => p.Name).ToArray(),
                    "float parameters");
                for (int i = 0; i < model.Parameters.All.Count; i++)
                    SameBits.Floats(model.Parameters.All[i].Tensor.Span, loaded.Parameters.All[i].Tensor.Span, model.Parameters.All[i].Name);
                SameBits.Floats(TinyModelLogits.Of(model, spec, prompts), TinyModelLogits.Of(loaded, spec, prompts), "logits");
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }, iter: Iterations);
    }

    /// <summary>The same format, shape, codes and scales (what a quantized matrix stores), and so the same dequantized values.</summary>
    private static void SameQuantized(QuantizedMatrix expected, QuantizedMatrix actual, string what)
    {
        Assert.AreEqual(expected.GetType(), actual.GetType(), $"{what}: format");
        Assert.AreEqual((expected.Rows, expected.Columns), (actual.Rows, actual.Columns), $"{what}: shape");
        switch (expected, actual)
        {
            case (Int8Matrix e, Int8Matrix a):
                var ev = new sbyte[e.Rows * e.Columns];
                var av = new sbyte[a.Rows * a.Columns];
                e.CopyValues(ev);
                a.CopyValues(av);
                CollectionAssert.AreEqual(ev, av, $"{what}: int8 values");
                SameBits.Floats(e.Scales, a.Scales, $"{what}: int8 scales");
                break;
            case (Nf4Matrix e, Nf4Matrix a):
                Assert.AreEqual(e.DoubleQuantized, a.DoubleQuantized, $"{what}: double quantization");
                CollectionAssert.AreEqual(e.Codes.ToArray(), a.Codes.ToArray(), $"{what}: NF4 codes");
                SameBits.Floats(e.AbsMax, a.AbsMax, $"{what}: NF4 absmax");
                CollectionAssert.AreEqual(e.AbsMaxCodes.ToArray(), a.AbsMaxCodes.ToArray(), $"{what}: NF4 absmax codes");
                SameBits.Floats(e.AbsMaxGroupScales, a.AbsMaxGroupScales, $"{what}: NF4 absmax group scales");
                SameBits.Floats([e.AbsMaxMean], [a.AbsMaxMean], $"{what}: NF4 absmax mean");
                break;
        }
        SameBits.Floats(expected.Dequantize().Span, actual.Dequantize().Span, $"{what}: dequantized");
    }
}
