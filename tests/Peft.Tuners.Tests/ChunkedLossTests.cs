using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class ChunkedLossTests
{
    private static (float Loss, float[][] Grads) Run(string family, int mode)
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base")));
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 }, seed: 1);
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3 }, seed: 2);
        var lora = (LoraAdapter)model.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromPattern(@".*\.(c_attn|q_proj)$") }, seed: 3);
        foreach (var l in lora.Layers) l.B.Span.Fill(0.03f);
        model.SetActiveAdapters("prefix", "prompt", "lora");
        var ids = IntTensor.FromArray([0, 9, 13, 2, 44, 7, 8, 21, 3, 60], 2, 5);
        var mask = IntTensor.FromArray([0, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2, 5);
        var labels = IntTensor.FromArray([-100, 9, 13, 2, 44, 7, 8, -100, 3, 60], 2, 5);
        float loss;
        using (new TensorScope())
        {
            var l = mode == 0 ? model.Forward(ids, mask, labels).Loss! : model.Loss(ids, labels, mask, chunked: mode == 2).Loss;
            loss = l.Item();
            l.Backward();
        }
        return (loss, model.TrainableParameters.Select(p => p.Grad!.ToArray()).ToArray());
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama")]
    public void TheLossOnlyPathsEqualTheLogitsLossWithItsGradients(string family)
    {
        var full = Run(family, mode: 0);
        foreach (int mode in new[] { 1, 2 })
        {
            var other = Run(family, mode);
            Assert.AreEqual(full.Loss, other.Loss, 1e-5f, $"mode {mode}");
            for (int i = 0; i < full.Grads.Length; i++)
                for (int j = 0; j < full.Grads[i].Length; j++)
                    Assert.AreEqual(full.Grads[i][j], other.Grads[i][j], 1e-5f * (1 + Math.Abs(full.Grads[i][j])), $"mode {mode}: tensor {i} element {j}");
        }
    }
}
