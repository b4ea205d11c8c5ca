using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Lora;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class LoraParityTests
{
    [TestMethod]
    [DataRow("gpt2_lora")]
    [DataRow("llama_lora")]
    public void CausalLogitsLossGradientsAndGenerationMatchPeft(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var adapter = LoraAdapter.Load(Path.Combine(c.Folder, "adapter"), model.LinearLayers);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        using (new TensorScope())
        {
            var output = model.Forward(inputIds: ids, attentionMask: mask, labels: c.Ints("input.labels"));
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        AssertGradients(c, adapter);
        Assert.IsTrue(model.Parameters.All.All(p => p.Tensor.Grad is null), "the frozen base gets no gradients");
        var sequences = new CausalGenerator(model).GenerateGreedy(ids, mask, new GenerationOptions { MaxNewTokens = 8 });
        CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), sequences.ToArray());
    }

    [TestMethod]
    public void Seq2SeqLogitsLossAndGradientsMatchPeft()
    {
        using var c = new HfCase("t5_lora");
        var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
        var adapter = LoraAdapter.Load(Path.Combine(c.Folder, "adapter"), model.LinearLayers);
        using (new TensorScope())
        {
            var output = model.Forward(inputIds: c.Ints("input.input_ids"), attentionMask: c.Ints("input.attention_mask"), labels: c.Ints("input.labels"));
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        AssertGradients(c, adapter);
        var sequences = new Seq2SeqGenerator(model).GenerateGreedy(c.Ints("input.input_ids"), c.Ints("input.attention_mask"),
            new GenerationOptions { MaxNewTokens = 8 });
        CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), sequences.ToArray());
    }

    private static void AssertGradients(HfCase c, LoraAdapter adapter)
    {
        int checkedCount = 0;
        foreach (var p in adapter.Parameters)
        {
            // named_parameters() carries the adapter name: ...lora_A.default.weight
            string name = "grad." + p.Name!.Replace(".weight", ".default.weight", StringComparison.Ordinal);
            Assert.IsTrue(c.Has(name), $"fixture lacks {name}");
            Assert.IsNotNull(p.Grad, $"{p.Name} got no gradient");
            c.AssertClose(name, p.Grad.Span, "grad");
            checkedCount++;
        }
        Assert.AreEqual(c.Expected.Tensors.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), checkedCount);
    }
}
