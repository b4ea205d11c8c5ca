using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PromptTuningParityTests
{
    [TestMethod]
    [DataRow("gpt2_prompt_tuning")]
    [DataRow("llama_prompt_tuning")]
    public void CausalLogitsLossGradientAndGenerationMatchPeft(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var adapter = PromptTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config, model.TokenEmbeddings);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        using (new TensorScope())
        {
            var (embeddings, fullMask, labels) = adapter.Prepend(model.Embed(ids), mask, c.Ints("input.labels"));
            var output = model.Forward(inputEmbeddings: embeddings, attentionMask: fullMask, labels: labels);
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        c.AssertClose("grad.prompt_encoder.default.embedding.weight", adapter.Embeddings.Grad!.Span, "grad");

        // Where HF's own cached generate() drops the adapter (llama), the fixture names the
        // full-recompute reference; cached and uncached runs here must both equal it.
        string reference = c.Case.TryGetProperty("generation_reference", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String
            ? r.GetString()!
            : "generate.ids";
        var peft = new PeftModel(model);
        peft.LoadAdapter(Path.Combine(c.Folder, "adapter"), "adapter");
        foreach (bool useCache in new[] { true, false })
        {
            var sequences = peft.Generate(ids, mask, new GenerationOptions { MaxNewTokens = 8, UseCache = useCache });
            CollectionAssert.AreEqual(c.Expected.ReadInt32(reference), sequences.ToArray(), $"useCache={useCache}");
        }
    }

    [TestMethod]
    public void Seq2SeqPromptGoesInFrontOfTheEncoderInput()
    {
        using var c = new HfCase("t5_prompt_tuning");
        var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
        var adapter = PromptTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config, model.TokenEmbeddings);
        Assert.AreEqual(2 * adapter.Config.NumVirtualTokens, adapter.Embeddings.Shape[0]);
        using (new TensorScope())
        {
            var (embeddings, encoderMask, _) = adapter.Prepend(model.Embed(c.Ints("input.input_ids")), c.Ints("input.attention_mask"), null);
            var output = model.Forward(inputEmbeddings: embeddings, attentionMask: encoderMask, labels: c.Ints("input.labels"));
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("encoder_last_hidden_state", output.EncoderLastHiddenState.Span, "hidden_or_cache");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        c.AssertClose("grad.prompt_encoder.default.embedding.weight", adapter.Embeddings.Grad!.Span, "grad");
    }

    [TestMethod]
    public void SizesAreInferredAndContradictionsNameTheField()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base"));
        var adapter = PromptTuningAdapter.Create(new PromptTuningConfig { NumVirtualTokens = 3 }, model.Config, model.TokenEmbeddings, seed: 1);
        Assert.AreEqual(new Shape(3, 32), adapter.Embeddings.Shape);
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            PromptTuningAdapter.Create(new PromptTuningConfig { NumVirtualTokens = 3, TokenDim = 64 }, model.Config, model.TokenEmbeddings));
        StringAssert.Contains(ex.Message, "'token_dim' is 64 but the model has 32");
        var t5 = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
        Assert.AreEqual(2, new PromptTuningConfig().Resolve(t5.Config).Submodules);
        var sampled = PromptTuningAdapter.Create(new PromptTuningConfig { NumVirtualTokens = 2, PromptTuningInit = PromptTuningInit.SampleVocab },
            model.Config, model.TokenEmbeddings, seed: 2);
        var row = sampled.Embeddings.ToArray()[..32];
        bool fromVocab = Enumerable.Range(0, model.Config.VocabSize).Any(v => model.TokenEmbeddings.Span.Slice(v * 32, 32).SequenceEqual(row));
        Assert.IsTrue(fromVocab, "SAMPLE_VOCAB rows are token embedding rows");
    }
}
