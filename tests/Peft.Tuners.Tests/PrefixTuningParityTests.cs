using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PrefixTuningParityTests
{
    private static IntTensor OnesThen(IntTensor mask, int count)
    {
        int batch = mask.Shape[0], length = mask.Shape[1];
        var m = IntTensor.Zeros(new Shape(batch, count + length));
        for (int b = 0; b < batch; b++)
        {
            m.Span.Slice(b * (count + length), count).Fill(1);
            mask.Span.Slice(b * length, length).CopyTo(m.Span.Slice(b * (count + length) + count));
        }
        return m;
    }

    [TestMethod]
    [DataRow("gpt2_prefix_tuning")]
    [DataRow("llama_prefix_tuning")]
    [DataRow("gpt2_prefix_tuning_proj")]
    [DataRow("llama_prefix_tuning_proj")]
    public void CausalLogitsLossGradientsAndGenerationMatchPeft(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var loaded = PrefixTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config);
        // The training check runs on the live parameters (for projections, the transform itself).
        var adapter = loaded.Config.PrefixProjection ? FromTrainableState(c, loaded, model.Config) : loaded;
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        int v = loaded.Config.NumVirtualTokens;
        using (new TensorScope())
        {
            var prefix = adapter.Prefix(ids.Shape[0]);
            c.AssertClose("prefix.layer0.key", prefix[0].Keys.Span, "hidden_or_cache");
            c.AssertClose("prefix.layer0.value", prefix[0].Values.Span, "hidden_or_cache");
            var output = model.Forward(inputIds: ids, attentionMask: OnesThen(mask, v), prefix: prefix, labels: c.Ints("input.labels"));
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        int count = 0;
        foreach (var p in adapter.Parameters)
        {
            string name = "grad." + (p.Name == "prompt_embeddings"
                ? "prompt_encoder.default.embedding.weight"
                : p.Name!.Replace("prompt_encoder.", "prompt_encoder.default.", StringComparison.Ordinal));
            c.AssertClose(name, p.Grad!.Span, "grad");
            count++;
        }
        Assert.AreEqual(c.Expected.Tensors.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), count);

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

    private static PrefixTuningAdapter FromTrainableState(HfCase c, PrefixTuningAdapter loaded, Transformers.Configuration.ModelConfig model)
    {
        using var state = SafeTensorsFile.Open(Path.Combine(c.Folder, "trainable_state.safetensors"));
        Tensor Read(string key, string name) => Tensor.Parameter(state.ReadFloat32(key), new Shape(state.GetInfo(key).Shape), name);
        var embedding = Read("prompt_encoder.default.embedding.weight", "prompt_encoder.embedding.weight");
        var transform = new[] { "transform.0.weight", "transform.0.bias", "transform.2.weight", "transform.2.bias" }
            .Select(n => Read("prompt_encoder.default." + n, "prompt_encoder." + n)).ToArray();
        return PrefixTuningAdapter.FromTensors(loaded.Config, model, embedding, transform);
    }

    [TestMethod]
    public void ContradictingSizesNameTheFieldAndTheRightValue()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base"));
        // Llama here has 4 query heads but 2 key/value heads: the prefix is per kv head (PEFT's rewrite).
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            PrefixTuningAdapter.Create(new PrefixTuningConfig { NumVirtualTokens = 2, NumAttentionHeads = 4 }, model.Config));
        StringAssert.Contains(ex.Message, "'num_attention_heads' is 4 but the model needs 2");
        var t5 = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
        var t5ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            PrefixTuningAdapter.Create(new PrefixTuningConfig { NumVirtualTokens = 2, NumTransformerSubmodules = 1 }, t5.Config));
        StringAssert.Contains(t5ex.Message, "'num_transformer_submodules' is 1 but the model needs 2");
    }

    [TestMethod]
    public void Seq2SeqDecoderPrefixMatchesPeftWithoutHandCopiedSizes()
    {
        using var c = new HfCase("t5_prefix_tuning");
        var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
        var adapter = PrefixTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        using (new TensorScope())
        {
            var prefix = adapter.Prefix(ids.Shape[0]);
            c.AssertClose("prefix.layer0.0", prefix[0].Keys.Span, "hidden_or_cache");
            var output = model.Forward(inputIds: ids, attentionMask: mask, decoderPrefix: prefix, labels: c.Ints("input.labels"));
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("encoder_last_hidden_state", output.EncoderLastHiddenState.Span, "hidden_or_cache");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        c.AssertClose("grad.prompt_encoder.default.embedding.weight", adapter.Embedding.Grad!.Span, "grad");
        var peft = new PeftModel(model);
        peft.LoadAdapter(Path.Combine(c.Folder, "adapter"), "adapter");
        foreach (bool useCache in new[] { true, false })
        {
            var sequences = peft.Generate(ids, mask, new GenerationOptions { MaxNewTokens = 8, UseCache = useCache });
            CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), sequences.ToArray(), $"useCache={useCache}");
        }
        // The same adapter from a config that gives no sizes at all: everything is inferred.
        var inferred = PrefixTuningAdapter.Create(new PrefixTuningConfig { NumVirtualTokens = 4 }, model.Config);
        Assert.AreEqual(adapter.Embedding.Shape, inferred.Embedding.Shape);
    }
}
