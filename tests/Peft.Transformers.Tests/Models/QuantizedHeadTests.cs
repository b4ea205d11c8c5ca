using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class QuantizedHeadTests
{
    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void AQuantizedHeadGivesCloseLogitsAndTheSameCachedAndUncachedTokens(string name)
    {
        var ids = IntTensor.FromArray([5, 9, 13, 2, 44, 7], 2, 3);
        var plain = ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), new LoadOptions { Quantization = QuantizationFormat.Int8 });
        var headed = ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), new LoadOptions { Quantization = QuantizationFormat.Int8, QuantizeLmHead = true });
        Assert.IsNull(plain.QuantizedHead);
        Assert.IsNotNull(headed.QuantizedHead);
        float[] a, b;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            a = plain.Forward(inputIds: ids).Logits.ToArray();
            b = headed.Forward(inputIds: ids).Logits.ToArray();
        }
        double scale = a.Max(Math.Abs), worst = a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
        Assert.IsLessThan(0.02 * scale + 1e-3, worst, $"max |Δlogit| {worst} against max |logit| {scale}");
        Assert.IsGreaterThan(0.0, worst, "the head really is quantized");
        var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [] };
        var generator = new CausalGenerator(headed);
        CollectionAssert.AreEqual(generator.Generate(ids, null, options with { UseCache = false }).ToArray(), generator.Generate(ids, null, options).ToArray());
        Assert.ThrowsExactly<ArgumentException>(() => ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), new LoadOptions { QuantizeLmHead = true }));
    }
}
