using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests;

/// <summary>LoRA's <c>bias</c> modes (each adapter trains its own bias copies) and <c>init_lora_weights</c>.</summary>
[TestClass]
public sealed class LoraBiasAndInitTests
{
    private static PeftModel Gpt2() => new(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));

    [TestMethod]
    [DataRow(LoraBias.All)]
    [DataRow(LoraBias.LoraOnly)]
    public void BiasModesTrainTheirBiasesSaveThemUnderHfKeysAndGiveTheBaseBackWhenOff(LoraBias bias)
    {
        var model = Gpt2();
        var baseLogits = PeftModelRuns.Logits(model);
        model.AddAdapter("a", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), Bias = bias }, seed: 1);
        var parameters = model.BaseModel.Parameters.All;
        var expectedBiases = parameters.Where(p => bias == LoraBias.All
            ? p.Name.Contains("bias", StringComparison.Ordinal)
            : p.Name.EndsWith("attn.c_attn.bias", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(expectedBiases);
        var trainable = model.TrainableParameters;
        foreach (var p in expectedBiases) CollectionAssert.Contains(trainable.ToList(), p.Tensor, p.Name);
        Assert.IsFalse(trainable.Contains(parameters.First(p => p.Name == "transformer.h.0.attn.c_attn.weight").Tensor));
        PeftModelRuns.Train(model, steps: 2);
        var trained = PeftModelRuns.Logits(model);
        using (model.DisableAdapters()) CollectionAssert.AreEqual(baseLogits, PeftModelRuns.Logits(model), "off: the base's own biases");
        string folder = Path.Combine(Path.GetTempPath(), "peft-lora-bias-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SaveAdapter("a", folder);
            using (var file = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName)))
            {
                // PEFT keeps a wrapped layer's own weights under base_layer.
                Assert.IsTrue(file.Contains("base_model.model.transformer.h.0.attn.c_attn.base_layer.bias"));
                Assert.AreEqual(bias == LoraBias.All, file.Contains("base_model.model.transformer.h.0.ln_1.bias"));
            }
            using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName))))
                Assert.AreEqual(bias == LoraBias.All ? "all" : "lora_only", doc.RootElement.GetProperty("bias").GetString(), "HF PEFT's string in the file");
            var fresh = Gpt2();
            fresh.LoadAdapter(folder, "a", trainable: true);
            CollectionAssert.AreEqual(trained, PeftModelRuns.Logits(fresh));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Bias "all" trains every parameter named like a bias, as PEFT does, and on T5 that includes
    /// the relative_attention_bias tables (".weight", not ".bias"); their saved copies made the
    /// folder unloadable ("tensors for modules this model does not have"). Found by AdapterSaveLoadProperties.
    /// </summary>
    [TestMethod]
    public void BiasAllOnT5SavesAndLoadsTheRelativeAttentionBiasTables()
    {
        var ids = IntTensor.FromArray([3, 9, 13, 2, 44, 7, 8, 21], 2, 4);
        float[] Logits(PeftModel m)
        {
            using (Autograd.NoGrad())
            using (new TensorScope())
                return m.Forward(ids, labels: ids).Logits.ToArray();
        }
        PeftModel T5() => new(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));
        var model = T5();
        model.AddAdapter("a", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("q", "v"), Bias = LoraBias.All }, seed: 1);
        var table = model.BaseModel.Parameters.All.First(p => p.Name.EndsWith("relative_attention_bias.weight", StringComparison.Ordinal));
        CollectionAssert.Contains(model.TrainableParameters.ToList(), table.Tensor, "PEFT's bias 'all' takes in the relative attention bias table");
        // Trained, the adapter's copy of the table differs from the base's: loading must bring the copy back.
        PeftModelRuns.Train(model, ids, steps: 2);
        model.SetTrainable("a", false);
        string folder = Path.Combine(Path.GetTempPath(), "peft-lora-t5-bias-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SaveAdapter("a", folder);
            using (var file = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName)))
                Assert.IsTrue(file.Contains("base_model.model." + table.Name), "the table's copy is in the file");
            var fresh = T5();
            fresh.LoadAdapter(folder, "a");
            CollectionAssert.AreEqual(Logits(model), Logits(fresh));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void InitModesFollowPeft()
    {
        var model = Gpt2();
        var gaussian = (LoraAdapter)model.AddAdapter("g",
            new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("c_attn"), InitLoraWeights = LoraInit.Gaussian }, seed: 3);
        var a = gaussian.Layers.SelectMany(l => l.A.ToArray()).ToArray();
        double std = Math.Sqrt(a.Select(v => (double)v * v).Average());
        Assert.AreEqual(0.25, std, 0.02, "gaussian: A ~ N(0, 1/r)");
        Assert.IsTrue(gaussian.Layers.All(l => l.B.ToArray().All(v => v == 0f)), "B starts at zero");

        var baseLogits = PeftModelRuns.Logits(model);
        model.AddAdapter("r", new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("c_attn"), InitLoraWeights = LoraInit.Random }, seed: 3);
        model.SetAdapter("r");
        Assert.IsFalse(baseLogits.SequenceEqual(PeftModelRuns.Logits(model)), "init false: B is random, outputs change at once");

        foreach (var (json, expected) in new[] { ("true", LoraInit.KaimingUniform), ("false", LoraInit.Random), ("\"gaussian\"", LoraInit.Gaussian) })
        {
            using var doc = JsonDocument.Parse($$"""{"peft_type":"LORA","r":2,"target_modules":["c_attn"],"init_lora_weights":{{json}}}""");
            var config = LoraConfig.FromJson(doc.RootElement);
            Assert.AreEqual(expected, config.InitLoraWeights);
            Assert.AreEqual(JsonNode.Parse(json)!.ToJsonString(), config.ToJson()["init_lora_weights"]!.ToJsonString());
        }
        using var bad = JsonDocument.Parse("""{"peft_type":"LORA","r":2,"target_modules":["c_attn"],"init_lora_weights":"pissa"}""");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => LoraConfig.FromJson(bad.RootElement)).Message, "gaussian");
        using var badBias = JsonDocument.Parse("""{"peft_type":"LORA","r":2,"target_modules":["c_attn"],"bias":"some"}""");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => LoraConfig.FromJson(badBias.RootElement)).Message, "lora_only");
    }
}
