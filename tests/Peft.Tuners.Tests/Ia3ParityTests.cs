using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class Ia3ParityTests
{
    [TestMethod]
    [DataRow("gpt2_ia3")]
    [DataRow("llama_ia3")]
    [DataRow("t5_ia3")]
    public void LogitsLossGradientsAndGenerationMatchPeft(string caseName)
    {
        using var c = new HfCase(caseName);
        bool seq2seq = caseName.StartsWith("t5", StringComparison.Ordinal);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        Ia3Adapter adapter;
        int[] generated;
        if (seq2seq)
        {
            var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
            adapter = Ia3Adapter.Load(Path.Combine(c.Folder, "adapter"), model.LinearLayers);
            using (new TensorScope())
            {
                var output = model.Forward(inputIds: ids, attentionMask: mask, labels: c.Ints("input.labels"));
                c.AssertClose("logits", output.Logits.Span, "logits");
                c.AssertClose("train.loss", output.Loss!.Span, "loss");
                output.Loss.Backward();
            }
            generated = new Seq2SeqGenerator(model).GenerateGreedy(ids, mask, new GenerationOptions { MaxNewTokens = 8 }).ToArray();
        }
        else
        {
            var model = ModelLoader.LoadCausal(c.BaseFolder);
            adapter = Ia3Adapter.Load(Path.Combine(c.Folder, "adapter"), model.LinearLayers);
            using (new TensorScope())
            {
                var output = model.Forward(inputIds: ids, attentionMask: mask, labels: c.Ints("input.labels"));
                c.AssertClose("logits", output.Logits.Span, "logits");
                c.AssertClose("train.loss", output.Loss!.Span, "loss");
                output.Loss.Backward();
            }
            generated = new CausalGenerator(model).GenerateGreedy(ids, mask, new GenerationOptions { MaxNewTokens = 8 }).ToArray();
        }
        int count = 0;
        foreach (var p in adapter.Parameters)
        {
            string name = "grad." + p.Name + ".default";
            c.AssertClose(name, p.Grad!.Span, "grad");
            count++;
        }
        Assert.AreEqual(c.Expected.Tensors.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), count);
        CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), generated);
    }

    [TestMethod]
    public void FeedforwardModulesOutsideTheTargetsAreRejected()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => Ia3Adapter.Attach(model.LinearLayers,
            new Ia3Config { TargetModules = TargetModules.FromNames("c_attn"), FeedforwardModules = TargetModules.FromNames("mlp.c_proj") }));
        StringAssert.Contains(ex.Message, "subset");
        // Rejected before anything was attached (c_attn of layer 0 comes before the first mlp.c_proj): the base stays free
        // for the next PeftModel, which refused it when a half-attached adapter was left behind (afl, adapter target).
        Assert.IsTrue(model.LinearLayers.All(l => l.Adapters.Count == 0));
        var peft = new PeftModel(model);
        Assert.IsEmpty(peft.AdapterNames);
    }
}
