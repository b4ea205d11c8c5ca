using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Models;
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
        var classifier = ModelLoader.LoadSequenceClassifier(Fixtures.Hf("gpt2_base", "base"), numLabels: 2, new LoadOptions { Quantization = QuantizationFormat.Nf4 });
        Assert.IsTrue(classifier.LinearLayers.All(l => l.IsQuantized));
        var model = new PeftModel(classifier);
        model.AddAdapter("cls", new PromptTuningConfig { NumVirtualTokens = 2, TaskType = "SEQ_CLS" });
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
