using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class GradientCheckpointingTests
{
    private static IPeftConfig Config(string method, bool t5) => method switch
    {
        "prompt" => new PromptTuningConfig { NumVirtualTokens = 3 },
        "p_tuning" => new PTuningConfig { NumVirtualTokens = 3, EncoderHiddenSize = 8 },
        "prefix" => new PrefixTuningConfig { NumVirtualTokens = 3 },
        "prefix_proj" => new PrefixTuningConfig { NumVirtualTokens = 3, PrefixProjection = true, EncoderHiddenSize = 8 },
        "multitask" => new MultitaskPromptTuningConfig { NumVirtualTokens = 3, NumTasks = 2 },
        "lora" => new LoraConfig { R = 2, LoraAlpha = 4, LoraDropout = 0.3f,
            TargetModules = TargetModules.FromPattern(t5 ? @".*\.(q|v|wi)$" : @".*\.(c_attn|c_fc|q_proj|v_proj|up_proj)$") },
        _ => t5
            ? new Ia3Config { TargetModules = TargetModules.FromNames("k", "v", "wo"), FeedforwardModules = TargetModules.FromNames("wo") }
            : new Ia3Config { TargetModules = TargetModules.FromPattern(@".*\.(c_attn|mlp\.c_proj|k_proj|down_proj)$"),
                FeedforwardModules = TargetModules.FromPattern(@".*\.(mlp\.c_proj|down_proj)$") },
    };

    private static (float Loss, float[][] Grads) Step(string family, string method, bool checkpointing)
    {
        bool t5 = family == "t5";
        var model = t5
            ? new PeftModel(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")))
            : new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base")));
        var adapter = model.AddAdapter("a", Config(method, t5), seed: 7);
        // Non-trivial starting points so every gradient is non-zero.
        if (adapter is LoraAdapter lora) foreach (var l in lora.Layers) l.B.Span.Fill(0.05f);
        if (adapter is Ia3Adapter ia3) foreach (var l in ia3.Layers) l.Scale.Span.Fill(1.2f);
        model.Training = true;
        model.BaseModel.GradientCheckpointing = checkpointing;
        var ids = IntTensor.FromArray([5, 9, 13, 2, 44, 7, 8, 21, 3, 60], 2, 5);
        var mask = IntTensor.FromArray([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], 2, 5);
        var labels = t5 ? IntTensor.FromArray([4, 6, 1, 9, 12, 1], 2, 3) : ids;
        float loss;
        using (new TensorScope())
        {
            var output = model.Forward(ids, mask, labels, taskIds: IntTensor.FromArray([1, 0], 2));
            loss = output.Loss!.Item();
            output.Loss.Backward();
        }
        return (loss, model.TrainableParameters.Select(p => p.Grad!.ToArray()).ToArray());
    }

    [TestMethod]
    [DataRow("gpt2", "prompt"), DataRow("gpt2", "p_tuning"), DataRow("gpt2", "prefix"), DataRow("gpt2", "prefix_proj"), DataRow("gpt2", "multitask"),
        DataRow("gpt2", "lora"), DataRow("gpt2", "ia3")]
    [DataRow("llama", "prefix"), DataRow("llama", "lora"), DataRow("llama", "prompt")]
    [DataRow("t5", "prompt"), DataRow("t5", "prefix"), DataRow("t5", "lora"), DataRow("t5", "ia3")]
    public void GradientsAreTheSameWithAndWithoutCheckpointing(string family, string method)
    {
        var plain = Step(family, method, checkpointing: false);
        var checkpointed = Step(family, method, checkpointing: true);
        Assert.AreEqual(plain.Loss, checkpointed.Loss);
        Assert.AreEqual(plain.Grads.Length, checkpointed.Grads.Length);
        for (int i = 0; i < plain.Grads.Length; i++)
        {
            Assert.IsTrue(plain.Grads[i].Any(g => g != 0), $"tensor {i} has a gradient");
            for (int j = 0; j < plain.Grads[i].Length; j++)
                Assert.AreEqual(plain.Grads[i][j], checkpointed.Grads[i][j], 1e-6f * (1 + Math.Abs(plain.Grads[i][j])), $"tensor {i} element {j}");
        }
    }
}
