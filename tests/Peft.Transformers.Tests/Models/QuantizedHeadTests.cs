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
        var plain = ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), new LoadOptions { Quantization = QuantizationFormat.Int8, QuantizeLmHead = false });
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

    [TestMethod]
    public void TheHeadIsQuantizedByDefaultWithInt8OnlyAndFalseKeepsItFloat()
    {
        string folder = Fixtures.Hf("gpt2_base", "base");
        Assert.IsNotNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.Int8 }).QuantizedHead);
        Assert.IsNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.Int8, QuantizeLmHead = false }).QuantizedHead);
        Assert.IsNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.Nf4 }).QuantizedHead);
        // The fixture is F32: a 16-bit copy of its head would round it, so 16-bit formats copy it only when asked (a 16-bit
        // checkpoint's head is copied by default: HalfPrecisionModelTests).
        Assert.IsNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.BFloat16 }).QuantizedHead);
        Assert.IsNotNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.BFloat16, QuantizeLmHead = true }).QuantizedHead);
        Assert.IsNull(ModelLoader.LoadCausal(folder).QuantizedHead);

        // A folder saved int8 gets the same default, so save -> load gives the same logits.
        string saved = Path.Combine(Path.GetTempPath(), $"peft-int8-head-{Guid.NewGuid():N}");
        try
        {
            ModelLoader.Save(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.Int8 }), saved);
            Assert.IsNotNull(ModelLoader.LoadCausal(saved).QuantizedHead);
            Assert.IsNull(ModelLoader.LoadCausal(saved, new LoadOptions { QuantizeLmHead = false }).QuantizedHead);
        }
        finally
        {
            Directory.Delete(saved, recursive: true);
        }
    }

    /// <summary>
    /// The bound LoadOptions.QuantizeLmHead states, logit by logit: weights and activations rounded per row to absmax / 127
    /// put each logit within (‖x‖₁·max|wₙ| + ‖wₙ‖₁·max|x|) / 254 + K·max|x|·max|wₙ| / 64516 of x·wₙ, plus float rounding
    /// (allowed: 1e-5 of Σ|xₖ·wₙₖ|). Checked on every kernel path this CPU has, at 1 row (decoding) and 6 rows (a prompt).
    /// </summary>
    [TestMethod]
    [DataRow("gpt2_base", 1)]
    [DataRow("gpt2_base", 6)]
    [DataRow("llama_base", 1)]
    [DataRow("llama_base", 6)]
    public void EveryInt8HeadLogitIsWithinTheStatedBound(string name, int rows)
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), new LoadOptions { Quantization = QuantizationFormat.Int8 });
        var floatModel = ModelLoader.LoadCausal(Fixtures.Hf(name, "base"));
        var ids = IntTensor.FromArray([.. Enumerable.Range(0, rows).Select(i => (7 * i + 3) % floatModel.Config.VocabSize)], 1, rows);
        float[] hidden, logits;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            hidden = model.LastHiddenState(inputIds: ids).ToArray();
            logits = model.Forward(inputIds: ids).Logits.ToArray();
        }
        // The float head: lm_head.weight, or the token embeddings it is tied to (GPT-2).
        float[] head = (floatModel.Parameters.Contains("lm_head.weight") ? floatModel.Parameters["lm_head.weight"] : floatModel.TokenEmbeddings).ToArray();
        int k = floatModel.Config.HiddenSize, vocab = floatModel.Config.VocabSize;
        Assert.AreEqual(rows * vocab, logits.Length);
        int checkedLogits = 0;
        double worstShare = 0;
        for (int r = 0; r < rows; r++)
        {
            var x = hidden.AsSpan(r * k, k);
            double xAbsMax = 0, xL1 = 0;
            foreach (float v in x) { xAbsMax = Math.Max(xAbsMax, Math.Abs(v)); xL1 += Math.Abs(v); }
            for (int n = 0; n < vocab; n++)
            {
                var w = head.AsSpan(n * k, k);
                double exact = 0, magnitude = 0, wAbsMax = 0, wL1 = 0;
                for (int c = 0; c < k; c++)
                {
                    exact += (double)x[c] * w[c];
                    magnitude += Math.Abs((double)x[c] * w[c]);
                    wAbsMax = Math.Max(wAbsMax, Math.Abs(w[c]));
                    wL1 += Math.Abs(w[c]);
                }
                double bound = (xL1 * wAbsMax + wL1 * xAbsMax) / 254 + k * xAbsMax * wAbsMax / 64516 + 1e-5 * magnitude + 1e-6;
                double error = Math.Abs(logits[r * vocab + n] - exact);
                Assert.IsLessThanOrEqualTo(bound, error, $"{name}: row {r}, logit {n}: |Δ| {error} over the bound {bound}");
                worstShare = Math.Max(worstShare, error / bound);
                checkedLogits++;
            }
        }
        Assert.AreEqual(rows * vocab, checkedLogits);
        Assert.IsGreaterThan(0.0, worstShare, "the head really is quantized");
    }
}
