using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

/// <summary>
/// The task kind is one fact: the base model's. Saved adapters carry it as HF PEFT's task_type
/// without the user repeating it, and a config or file that says otherwise fails naming both.
/// </summary>
[TestClass]
public sealed class TaskTypeTests
{
    private static PeftModel Gpt2() => new(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));

    private static PeftModel T5() => new(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));

    private static PeftModel Classifier() => new(ModelLoader.LoadSequenceClassifier(Fixtures.Hf("gpt2_base", "base"), numLabels: 3));

    private static string SavedTaskType(PeftModel model, string adapter)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"task-type-{Guid.NewGuid():N}");
        try
        {
            model.SaveAdapter(adapter, folder);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName)));
            return doc.RootElement.GetProperty("task_type").GetString()!;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void EveryKindOfBaseWritesItsOwnTaskTypeWithoutBeingTold()
    {
        var causal = Gpt2();
        causal.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        Assert.AreEqual(ModelTask.CausalLM, causal.TaskType);
        Assert.AreEqual("CAUSAL_LM", SavedTaskType(causal, "prompt"));

        var t5 = T5();
        t5.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        t5.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("q", "v") });
        Assert.AreEqual(ModelTask.Seq2SeqLM, t5.TaskType);
        Assert.AreEqual("SEQ_2_SEQ_LM", SavedTaskType(t5, "prompt"));
        Assert.AreEqual("SEQ_2_SEQ_LM", SavedTaskType(t5, "lora"));

        var classifier = Classifier();
        classifier.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 2 });
        classifier.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn") });
        Assert.AreEqual(ModelTask.SequenceClassification, classifier.TaskType);
        Assert.AreEqual("SEQ_CLS", SavedTaskType(classifier, "prefix"));
        Assert.AreEqual("SEQ_CLS", SavedTaskType(classifier, "lora"));
    }

    [TestMethod]
    public void AConfigOfAnotherKindFailsNamingBothAndLeavesTheModelAsItWas()
    {
        var model = Gpt2();
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            model.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), TaskType = ModelTask.Seq2SeqLM }));
        StringAssert.Contains(ex.Message, "SEQ_2_SEQ_LM");
        StringAssert.Contains(ex.Message, "CAUSAL_LM");
        Assert.AreEqual(0, model.AdapterNames.Count);
        Assert.IsTrue(model.BaseModel.LinearLayers.All(l => l.Adapters.Count == 0), "nothing was attached");

        // The kind the model has is accepted when given.
        model.AddAdapter("ok", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), TaskType = ModelTask.CausalLM });
        Assert.AreEqual(1, model.AdapterNames.Count);
    }

    [TestMethod]
    public void AFolderOfAnotherKindFailsBeforeAttachingAnything()
    {
        // A real HF PEFT LoRA trained on T5 (task_type SEQ_2_SEQ_LM), offered to a decoder-only model.
        var model = Gpt2();
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => model.LoadAdapter(Path.Combine(Fixtures.Hf("t5_lora", "adapter")), "t5"));
        StringAssert.Contains(ex.Message, "SEQ_2_SEQ_LM");
        StringAssert.Contains(ex.Message, "CAUSAL_LM");
        StringAssert.Contains(ex.Message, AdapterFiles.ConfigFileName);
        Assert.AreEqual(0, model.AdapterNames.Count);
        Assert.IsTrue(model.BaseModel.LinearLayers.All(l => l.Adapters.Count == 0), "nothing was attached");

        // The same file loads on its own kind of base.
        var t5 = T5();
        t5.LoadAdapter(Fixtures.Hf("t5_lora", "adapter"), "t5");
        Assert.AreEqual("SEQ_2_SEQ_LM", SavedTaskType(t5, "t5"));
    }

    [TestMethod]
    public void AFileWithoutATaskTypeLoadsAndIsSavedWithTheBasesKind()
    {
        var source = T5();
        source.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 }, seed: 4);
        string folder = Path.Combine(Path.GetTempPath(), $"task-type-{Guid.NewGuid():N}");
        try
        {
            source.SaveAdapter("prompt", folder);
            string configPath = Path.Combine(folder, AdapterFiles.ConfigFileName);
            var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            json["task_type"] = null;
            File.WriteAllText(configPath, json.ToJsonString());
            var loaded = T5();
            loaded.LoadAdapter(folder, "prompt");
            Assert.IsNull(loaded["prompt"].Config.TaskType, "the file said nothing");
            Assert.AreEqual("SEQ_2_SEQ_LM", SavedTaskType(loaded, "prompt"), "the base decides");

            json["task_type"] = "TOKEN_CLS";
            File.WriteAllText(configPath, json.ToJsonString());
            var ex = Assert.ThrowsExactly<AdapterConfigException>(() => T5().LoadAdapter(folder, "prompt"));
            StringAssert.Contains(ex.Message, "TOKEN_CLS");
            StringAssert.Contains(ex.Message, "CAUSAL_LM, SEQ_2_SEQ_LM, SEQ_CLS");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void OptionStringsMapToEnumsAtTheFileBoundary()
    {
        Assert.AreEqual("SAMPLE_VOCAB", HfEnumNames.ToHf(PromptTuningInit.SampleVocab));
        Assert.AreEqual("lora_only", HfEnumNames.ToHf(LoraBias.LoraOnly, lowerCase: true));
        using var doc = JsonDocument.Parse("""{"prompt_tuning_init":"SAMPLE_VOCAB","bias":"lora_only","absent":null}""");
        Assert.AreEqual(PromptTuningInit.SampleVocab, HfEnumNames.Read(doc.RootElement, "prompt_tuning_init", PromptTuningInit.Random, "Prompt tuning"));
        Assert.AreEqual(LoraBias.LoraOnly, HfEnumNames.Read(doc.RootElement, "bias", LoraBias.None, "LoRA", lowerCase: true));
        Assert.AreEqual(PromptTuningInit.Text, HfEnumNames.Read(doc.RootElement, "absent", PromptTuningInit.Text, "Prompt tuning"), "null gives the default");
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => HfEnumNames.Read(doc.RootElement, "bias", PromptTuningInit.Random, "Prompt tuning"));
        StringAssert.Contains(ex.Message, "RANDOM, SAMPLE_VOCAB, TEXT");

        // Every written value reads back as itself.
        var config = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")).Config;
        foreach (var init in Enum.GetValues<PromptTuningInit>())
        {
            var json = new PromptTuningConfig { PromptTuningInit = init, PromptTuningInitText = "x" }.ToJson(config);
            using var written = JsonDocument.Parse(json.ToJsonString());
            Assert.AreEqual(init, PromptTuningConfig.FromJson(written.RootElement).PromptTuningInit);
        }
    }
}
