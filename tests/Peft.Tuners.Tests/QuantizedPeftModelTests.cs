using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class QuantizedPeftModelTests
{
    [TestMethod]
    public void AClassifierOnAnNf4BaseTrainsWithCheckpointingAndTheChunkedLoss()
    {
        var classifier = ModelLoader.LoadSequenceClassifier(Fixtures.Hf("gpt2_base", "base"), numLabels: 2,
            new LoadOptions { Quantization = QuantizationFormat.Nf4 });
        Assert.IsTrue(classifier.LinearLayers.All(l => l.IsQuantized));
        var model = new PeftModel(classifier);
        model.AddAdapter("cls", new PromptTuningConfig { NumVirtualTokens = 2 });
        var rows = Enumerable.Range(0, 16).Select(i => new TrainingExample([40 + i % 7, 10 + i % 2], [i % 2])).ToList();
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 10, BatchSize = 8, LearningRate = 0.05f, GradientCheckpointing = true });
        var before = trainer.Evaluate(rows).Loss;
        trainer.Train(rows);
        Assert.IsLessThan(before, trainer.Evaluate(rows).Loss);

        var causal = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base"), new LoadOptions { Quantization = QuantizationFormat.Int8 }));
        causal.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3 });
        var data = Enumerable.Range(0, 8).Select(i => new TrainingExample([5 + i, 9, 13 + i, 2])).ToList();
        var lm = new Trainer(causal, new TrainerOptions { Epochs = 5, BatchSize = 4, LearningRate = 0.05f, GradientCheckpointing = true, ChunkedLoss = true });
        double start = lm.Evaluate(data).Loss;
        lm.Train(data);
        Assert.IsLessThan(start, lm.Evaluate(data).Loss);
    }

    [TestMethod]
    public void MergingIntoAQuantizedBaseSaysWhyNot()
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"), new LoadOptions { Quantization = QuantizationFormat.Int8 }));
        model.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn") });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.MergeAdapter("lora")).Message, "quantized");
        using (Autograd.NoGrad())
        using (new TensorScope())
            Assert.IsTrue(float.IsFinite(model.Forward(IntTensor.FromArray([1, 2, 3], 1, 3)).Logits.Span[0]), "the unmerged adapter still runs");
    }
}

[TestClass]
public sealed class QuantizedSeq2SeqMethodTests
{
    [TestMethod]
    [DataRow("p_tuning", 1)]
    [DataRow("p_tuning", 2)]
    [DataRow("multitask", 1)]
    [DataRow("multitask", 2)]
    [DataRow("prefix_proj", 1)]
    [DataRow("prefix_paper", 2)]
    public void T5MethodsWithoutFixturesTrainAndGenerateOnQuantizedBases(string method, int format)
    {
        var t5 = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"), new LoadOptions { Quantization = (QuantizationFormat)format });
        Assert.IsTrue(t5.LinearLayers.All(l => l.IsQuantized));
        var model = new PeftModel(t5);
        IPeftConfig config = method switch
        {
            "p_tuning" => new PTuning.PTuningConfig { NumVirtualTokens = 3, EncoderHiddenSize = 8 },
            "multitask" => new MultitaskPromptTuning.MultitaskPromptTuningConfig { NumVirtualTokens = 3, NumTasks = 2 },
            "prefix_proj" => new PrefixTuningConfig { NumVirtualTokens = 3, PrefixProjection = true, EncoderHiddenSize = 8 },
            _ => new PrefixTuningConfig { NumVirtualTokens = 3, Seq2SeqPrefix = Seq2SeqPrefixMode.All },
        };
        model.AddAdapter("a", config, seed: 3);
        var before = model.TrainableParameters.Select(p => p.ToArray()).ToArray();
        var rows = Enumerable.Range(0, 4).Select(i => new TrainingExample([5 + i, 9, 13], [7 + i, 1], TaskId: i % 2)).ToList();
        new Trainer(model, new TrainerOptions { MaxSteps = 1, BatchSize = 4, LearningRate = 0.01f }).Train(rows);
        var after = model.TrainableParameters.Select(p => p.ToArray()).ToArray();
        Assert.IsTrue(before.Zip(after).Any(p => !p.First.SequenceEqual(p.Second)), "the adapter moved");
        Assert.IsTrue(t5.Parameters.All.All(p => p.Tensor.Grad is null), "nothing of the base got a gradient");
        var ids = IntTensor.FromArray([5, 9, 13, 6, 10, 14], 2, 3);
        var taskIds = IntTensor.FromArray([0, 1], 2);
        var options = new Transformers.Generation.GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] };
        CollectionAssert.AreEqual(model.Generate(ids, null, options with { UseCache = false }, taskIds).ToArray(),
            model.Generate(ids, null, options, taskIds).ToArray());
    }
}
