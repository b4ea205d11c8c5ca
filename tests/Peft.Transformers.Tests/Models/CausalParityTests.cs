using Peft.Tensors;
using Peft.Transformers.Masking;
using Peft.Transformers.Models;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class CausalParityTests
{
    [TestMethod]
    [DataRow("gpt2_base")]
    public void LogitsHiddenStatesAndLossMatchHuggingFace(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = CausalModelLoader.Load(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var labels = c.Ints("input.labels");
        using var scope = new TensorScope();
        var output = model.Forward(inputIds: ids, attentionMask: mask, labels: labels, outputHiddenStates: true);
        c.AssertClose("logits", output.Logits.Span, "logits");
        c.AssertClose("hidden.embeddings", output.HiddenStates![0].Span, "hidden_or_cache");
        c.AssertClose("hidden.last", output.HiddenStates[^1].Span, "hidden_or_cache");
        c.AssertClose("train.loss", output.Loss!.Span, "loss");

        var positions = PositionIds.FromAttentionMask(mask, ids.Shape[1]);
        var maskPos = model.Forward(inputIds: ids, attentionMask: mask, positionIds: positions);
        c.AssertClose("logits_maskpos", maskPos.Logits.Span, "logits");
    }
}
