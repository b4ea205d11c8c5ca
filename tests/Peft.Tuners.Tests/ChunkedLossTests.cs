using Peft.Tensors;
using Peft.Transformers.Models;
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
    private static (float Loss, float[][] Grads) Run(string family, bool chunked)
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
            var l = chunked ? model.Loss(ids, labels, mask) : model.Forward(ids, mask, labels).Loss!;
            loss = l.Item();
            l.Backward();
        }
        return (loss, model.TrainableParameters.Select(p => p.Grad!.ToArray()).ToArray());
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama")]
    public void TheChunkedLossEqualsTheLogitsLossWithItsGradients(string family)
    {
        var full = Run(family, chunked: false);
        var chunked = Run(family, chunked: true);
        Assert.AreEqual(full.Loss, chunked.Loss, 1e-5f);
        for (int i = 0; i < full.Grads.Length; i++)
            for (int j = 0; j < full.Grads[i].Length; j++)
                Assert.AreEqual(full.Grads[i][j], chunked.Grads[i][j], 1e-5f * (1 + Math.Abs(full.Grads[i][j])), $"tensor {i} element {j}");
    }
}
