using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests;

/// <summary>
/// modules_to_save on any base module: each adapter trains and saves its own copy of the whole
/// module, the base's values come back when the adapter is off, and HF PEFT's file keys are used.
/// </summary>
[TestClass]
public sealed class ModulesToSaveTests
{
    private static PeftModel Llama() => new(ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base")));

    private static LoraConfig Lora(params string[] modules) =>
        new() { R = 2, TargetModules = TargetModules.FromNames("q_proj"), ModulesToSave = modules };

    [TestMethod]
    public void TheCopyTrainsAloneAndTheBaseComesBackWhenTheAdapterIsOff()
    {
        var model = Llama();
        var head = model.BaseModel.Parameters["lm_head.weight"];
        var original = head.ToArray();
        var baseLogits = PeftModelRuns.Logits(model);
        model.AddAdapter("a", Lora("lm_head"), seed: 1);
        CollectionAssert.Contains(model.TrainableParameters.ToList(), head, "the module copy trains where the model reads it");
        PeftModelRuns.Train(model, 3);
        var trained = PeftModelRuns.Logits(model);
        Assert.IsFalse(head.ToArray().SequenceEqual(original), "training moved the head copy");
        using (model.DisableAdapters())
        {
            CollectionAssert.AreEqual(original, head.ToArray(), "adapters off: the base's own head");
            CollectionAssert.AreEqual(baseLogits, PeftModelRuns.Logits(model));
            Assert.IsFalse(head.RequiresGrad);
        }
        CollectionAssert.AreEqual(trained, PeftModelRuns.Logits(model), "back on: the trained copy again");
        // The parameter count includes the copy, as PEFT's print_trainable_parameters does.
        var (trainable, total) = model.CountParameters();
        Assert.IsGreaterThanOrEqualTo((long)head.Length, trainable);
        Assert.IsGreaterThan(model.BaseModel.Parameters.ElementCount + head.Length, total);
    }

    [TestMethod]
    public void EachAdapterKeepsItsOwnCopyAcrossSwitches()
    {
        var model = Llama();
        var norm = model.BaseModel.Parameters["model.norm.weight"];
        var original = norm.ToArray();
        model.AddAdapter("a", Lora("norm"), seed: 1);
        model.AddAdapter("b", new Ia3Config { TargetModules = TargetModules.FromNames("k_proj", "v_proj", "down_proj"),
            FeedforwardModules = TargetModules.FromNames("down_proj"), ModulesToSave = ["norm"] }, seed: 2);
        PeftModelRuns.Train(model, 2);
        var a = norm.ToArray();
        model.SetAdapter("b");
        PeftModelRuns.Train(model, 2);
        var b = norm.ToArray();
        Assert.IsFalse(a.SequenceEqual(b));
        model.SetAdapter("a");
        CollectionAssert.AreEqual(a, norm.ToArray(), "a's copy is untouched by b's training");
        model.SetAdapter("b");
        CollectionAssert.AreEqual(b, norm.ToArray());
        model.SetActiveAdapters("a", "b");
        CollectionAssert.AreEqual(b, norm.ToArray(), "the last active adapter's copy applies");
        model.DeleteAdapter("b");
        CollectionAssert.AreEqual(a, norm.ToArray(), "deleting b hands the module to a, still active");
        model.DeleteAdapter("a");
        CollectionAssert.AreEqual(original, norm.ToArray(), "no adapter left: the base's own values");
        Assert.IsFalse(norm.RequiresGrad);
    }

    [TestMethod]
    public void SavedWithHfKeysAndReloadedBitForBit()
    {
        var model = Llama();
        model.AddAdapter("a", Lora("lm_head", "norm"), seed: 1);
        PeftModelRuns.Train(model, 2);
        var expected = PeftModelRuns.Logits(model);
        string folder = Path.Combine(Path.GetTempPath(), "peft-modules-to-save-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SaveAdapter("a", folder);
            using (var file = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName)))
            {
                Assert.IsTrue(file.Contains("base_model.model.lm_head.weight"));
                Assert.IsTrue(file.Contains("base_model.model.model.norm.weight"));
            }
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName)))!;
            CollectionAssert.AreEqual(new[] { "lm_head", "norm" }, config["modules_to_save"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray());

            var fresh = Llama();
            var freshBase = PeftModelRuns.Logits(fresh);
            // Trainable like the saved one, so both multiply the head unpacked (a frozen head runs packed, rounding differently).
            fresh.LoadAdapter(folder, "a", trainable: true);
            CollectionAssert.AreEqual(model.BaseModel.Parameters["lm_head.weight"].ToArray(), fresh.BaseModel.Parameters["lm_head.weight"].ToArray());
            CollectionAssert.AreEqual(expected, PeftModelRuns.Logits(fresh));
            using (fresh.DisableAdapters()) CollectionAssert.AreEqual(freshBase, PeftModelRuns.Logits(fresh));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void GptConv1DModulesAreSavedInTheCheckpointLayoutAndReloaded()
    {
        // GPT-2 keeps Conv1D weights transposed; a saved copy must have HF's [in, out] layout.
        static PeftModel Gpt2() => new(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        var model = Gpt2();
        model.AddAdapter("a", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), ModulesToSave = ["mlp.c_fc"] }, seed: 1);
        PeftModelRuns.Train(model, 2);
        var expected = PeftModelRuns.Logits(model);
        string folder = Path.Combine(Path.GetTempPath(), "peft-modules-to-save-conv1d-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SaveAdapter("a", folder);
            const string key = "transformer.h.0.mlp.c_fc.weight";
            using (var saved = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName)))
            using (var checkpoint = SafeTensorsFile.Open(Path.Combine(Fixtures.Hf("gpt2_base", "base"), "model.safetensors")))
            {
                CollectionAssert.AreEqual(checkpoint.GetInfo(key).Shape, saved.GetInfo("base_model.model." + key).Shape);
                var stored = saved.ReadFloat32("base_model.model." + key);
                var parameter = model.BaseModel.Parameters.All.Single(p => p.Name == key);
                CollectionAssert.AreEqual(parameter.ToStored(parameter.Tensor.Span), stored);
            }
            var fresh = Gpt2();
            fresh.LoadAdapter(folder, "a", trainable: true);
            CollectionAssert.AreEqual(expected, PeftModelRuns.Logits(fresh));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void MergeAndUnloadKeepsTheTrainedModule()
    {
        var model = Llama();
        model.AddAdapter("a", Lora("lm_head"), seed: 1);
        foreach (var l in ((LoraAdapter)model["a"]).Layers) l.B.Span.Fill(0.02f);
        PeftModelRuns.Train(model, 2);
        var expected = PeftModelRuns.Logits(model);
        model.MergeAndUnload("a");
        Assert.IsEmpty(model.AdapterNames);
        Assert.IsFalse(model.BaseModel.Parameters["lm_head.weight"].RequiresGrad);
        var actual = PeftModelRuns.Logits(model);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-4f, $"logit {i}");
    }

    [TestMethod]
    public void BadModulesFailNamingThemAndLeaveTheModelAsItWas()
    {
        var model = Llama();
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("a", Lora("no_such_module")));
        StringAssert.Contains(ex.Message, "no_such_module");
        Assert.IsEmpty(model.AdapterNames);
        Assert.IsTrue(model.BaseModel.LinearLayers.All(l => l.Adapters.Count == 0), "the LoRA layers came off again");

        // GPT-2's LM head is its token embedding: a copy of one would silently change the other.
        var gpt2 = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            gpt2.AddAdapter("a", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), ModulesToSave = ["wte"] }));
        StringAssert.Contains(ex.Message, "tied");
        Assert.IsEmpty(gpt2.AdapterNames);
        Assert.IsTrue(gpt2.BaseModel.LinearLayers.All(l => l.Adapters.Count == 0));

        var bad = JsonNode.Parse("""{"peft_type":"LORA","r":2,"target_modules":["q_proj"],"modules_to_save":"lm_head"}""")!;
        using var doc = System.Text.Json.JsonDocument.Parse(bad.ToJsonString());
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => LoraConfig.FromJson(doc.RootElement)).Message, "modules_to_save");
    }
}
