using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PTuningParityTests
{
    [TestMethod]
    [DataRow("gpt2_p_tuning")]
    [DataRow("llama_p_tuning")]
    public void EncoderOutputLogitsLossGradientsAndGenerationMatchPeft(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var loaded = PTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config);
        Assert.IsFalse(loaded.Parameters.Any(), "PEFT's files hold only the encoder output: inference-only");

        using var state = SafeTensorsFile.Open(Path.Combine(c.Folder, "trainable_state.safetensors"));
        Tensor Read(string n) => Tensor.Parameter(state.ReadFloat32("prompt_encoder.default." + n),
            new Shape(state.GetInfo("prompt_encoder.default." + n).Shape), "prompt_encoder." + n);
        var trainable = PTuningAdapter.FromTensors(loaded.Config, model.Config, Read("embedding.weight"),
            new[] { "mlp_head.0.weight", "mlp_head.0.bias", "mlp_head.2.weight", "mlp_head.2.bias",
                "mlp_head.4.weight", "mlp_head.4.bias" }.Select(Read).ToArray());

        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        using (new TensorScope())
        {
            var encoded = trainable.VirtualTokens();
            var saved = loaded.VirtualTokens().ToArray();
            for (int i = 0; i < saved.Length; i++) Assert.AreEqual(saved[i], encoded.Span[i], 1e-5f, $"encoder output {i}");
            var (embeddings, fullMask, labels) = VirtualTokenInputs.Prepend(encoded, model.Embed(ids), mask, c.Ints("input.labels"));
            var output = model.Forward(inputEmbeddings: embeddings, attentionMask: fullMask, labels: labels);
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        int count = 0;
        foreach (var p in trainable.Parameters)
        {
            c.AssertClose("grad." + p.Name!.Replace("prompt_encoder.", "prompt_encoder.default.", StringComparison.Ordinal), p.Grad!.Span, "grad");
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

    [TestMethod]
    public void LstmEncoderTrainsThroughEveryWeight()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var adapter = PTuningAdapter.Create(new PTuningConfig { NumVirtualTokens = 3, EncoderReparameterizationType = PromptEncoderReparameterizationType.Lstm,
            EncoderHiddenSize = 6, EncoderNumLayers = 2 }, model.Config, seed: 4);
        var ids = IntTensor.FromArray([5, 6, 7, 8], 1, 4);
        using (new TensorScope())
        {
            var virtualTokens = adapter.VirtualTokens();
            Assert.AreEqual(new Shape(3, 32), virtualTokens.Shape);
            var (embeddings, mask, labels) = VirtualTokenInputs.Prepend(virtualTokens, model.Embed(ids), null, ids);
            model.Forward(inputEmbeddings: embeddings, attentionMask: mask, labels: labels).Loss!.Backward();
        }
        Assert.AreEqual(1 + 2 * 2 * 4 + 4, adapter.Parameters.Count());
        Assert.IsTrue(adapter.Parameters.All(p => p.Grad is not null && p.Grad.ToArray().Any(g => g != 0)), "every encoder weight gets a gradient");
        using var gru = System.Text.Json.JsonDocument.Parse("""{"peft_type":"P_TUNING","num_virtual_tokens":3,"encoder_reparameterization_type":"GRU"}""");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => PTuningConfig.FromJson(gru.RootElement)).Message, "MLP, LSTM");
        var notAMember = new PTuningConfig { EncoderReparameterizationType = (PromptEncoderReparameterizationType)5 };
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => PTuningAdapter.Create(notAMember, model.Config)).Message, "MLP, LSTM");
    }
}
