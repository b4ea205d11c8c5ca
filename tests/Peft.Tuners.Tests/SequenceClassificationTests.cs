using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Models.Classification;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class SequenceClassificationTests
{
    private static SequenceClassificationModel Classifier(string family = "gpt2") =>
        ModelLoader.LoadSequenceClassifier(Fixtures.Hf($"{family}_base", "base"), numLabels: 3, seed: 4);

    private static List<TrainingExample> Rows(int count, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        var rows = new List<TrainingExample>();
        for (int i = 0; i < count; i++)
        {
            var ids = Enumerable.Range(0, 1 + random.NextInt(4)).Select(_ => 40 + random.NextInt(30)).ToList();
            int key = 10 + random.NextInt(6);
            ids.Add(key);
            rows.Add(new TrainingExample(ids, [key % 3]));
        }
        return rows;
    }

    [TestMethod]
    public void TheHeadReadsEachRowsLastRealTokenAsHuggingFaceDoesForRightPadding()
    {
        var classifier = Classifier();
        var ids = IntTensor.FromArray([5, 9, 13, 0, 0, 7, 8, 21, 3, 60], 2, 5);
        var mask = IntTensor.FromArray([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], 2, 5);
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var logits = classifier.Forward(inputIds: ids, attentionMask: mask).Logits;
        Assert.AreEqual(new Shape(2, 3), logits.Shape);
        var hidden = classifier.Backbone.LastHiddenState(inputIds: ids, attentionMask: mask).ToArray();
        var score = classifier.Score.ToArray();
        int d = classifier.Config.HiddenSize;
        foreach (var (row, position) in new[] { (0, 2), (1, 4) })
            for (int c = 0; c < 3; c++)
            {
                double expected = 0;
                for (int k = 0; k < d; k++) expected += hidden[(row * 5 + position) * d + k] * score[c * d + k];
                Assert.AreEqual(expected, logits.Span[row * 3 + c], 1e-5, $"row {row} class {c}");
            }
    }

    [TestMethod]
    [DataRow("PROMPT_TUNING")]
    [DataRow("P_TUNING")]
    [DataRow("PREFIX_TUNING")]
    [DataRow("LORA")]
    public void EveryMethodTrainsAClassifierAndSavesItsHeadWithTheAdapter(string method)
    {
        IPeftConfig config = method switch
        {
            "PROMPT_TUNING" => new PromptTuningConfig { NumVirtualTokens = 3 },
            "P_TUNING" => new PTuningConfig { NumVirtualTokens = 3, EncoderHiddenSize = 16 },
            "PREFIX_TUNING" => new PrefixTuningConfig { NumVirtualTokens = 3 },
            _ => new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = TargetModules.FromNames("c_attn") },
        };
        var model = new PeftModel(Classifier());
        model.AddAdapter("cls", config, seed: 2);
        var data = Rows(48, 1);
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 15, BatchSize = 8, LearningRate = 0.03f });
        var before = trainer.Evaluate(data);
        trainer.Train(data);
        var after = trainer.Evaluate(data);
        Assert.IsLessThan(before.Loss * 0.7, after.Loss, $"{method}: loss {before.Loss:F3} -> {after.Loss:F3}");
        Assert.AreEqual(48, after.Tokens, "one target per row");

        string folder = Directory.CreateTempSubdirectory("peft-cls-").FullName;
        try
        {
            model.SaveAdapter("cls", folder);
            using (var file = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName)))
                Assert.IsTrue(file.Contains(method == "LORA" ? "base_model.model.score.weight" : "base_model.score.weight"),
                    "the head is saved under HF PEFT's key");
            var ids = IntTensor.FromArray([44, 12, 0, 50, 61, 13], 2, 3);
            var mask = IntTensor.FromArray([1, 1, 0, 1, 1, 1], 2, 3);
            var reloaded = new PeftModel(Classifier());
            reloaded.LoadAdapter(folder, "cls");
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                var expected = model.Forward(ids, mask).Logits.ToArray();
                var actual = reloaded.Forward(ids, mask).Logits.ToArray();
                for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-4f, $"logit {i}");
            }
            var causal = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
            StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => causal.LoadAdapter(folder, "cls")).Message, "classification head");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void PromptTuningOnRightPaddedRowsClassifiesEachRowAsAlone()
    {
        var model = new PeftModel(Classifier("llama"));
        model.AddAdapter("cls", new PromptTuningConfig { NumVirtualTokens = 2 }, seed: 1);
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var alone = model.Forward(IntTensor.FromArray([9, 33], 1, 2)).Logits.ToArray();
        var batch = model.Forward(IntTensor.FromArray([9, 33, 0, 0, 4, 5, 6, 7], 2, 4), IntTensor.FromArray([1, 1, 0, 0, 1, 1, 1, 1], 2, 4)).Logits.ToArray();
        for (int c = 0; c < 3; c++) Assert.AreEqual(alone[c], batch[c], 1e-5f, $"class {c}");
    }

    [TestMethod]
    public void BadClassificationInputsAndConfigsFailClearly()
    {
        var model = new PeftModel(Classifier());
        model.AddAdapter("cls", new PromptTuningConfig { NumVirtualTokens = 2 });
        var trainer = new Trainer(model);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            trainer.Train([new TrainingExample([1, 2], [5])])).Message, "class 5 is outside 0..2");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Train([new TrainingExample([1, 2])])).Message, "exactly one label");
        Assert.ThrowsExactly<InvalidOperationException>(() =>
            model.Generate(IntTensor.FromArray([1, 2], 1, 2), null, new Transformers.Generation.GenerationOptions()));
        var lora = JsonNode.Parse("""{"peft_type": "LORA", "r": 2, "target_modules": ["c_attn"], "modules_to_save": ["lm_head"]}""")!;
        using var doc = System.Text.Json.JsonDocument.Parse(lora.ToJsonString());
        // modules_to_save is checked against the model when attached: this GPT-2 classifier has no lm_head module.
        var config = LoraConfig.FromJson(doc.RootElement);
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("lm", config)).Message, "'lm_head'");
        CollectionAssert.AreEqual(new[] { "cls" }, model.AdapterNames.ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new SequenceClassificationModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")), 1)).Message, "at least 2 labels");
    }
}
