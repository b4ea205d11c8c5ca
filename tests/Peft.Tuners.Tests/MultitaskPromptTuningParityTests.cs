using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.MultitaskPromptTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class MultitaskPromptTuningParityTests
{
    [TestMethod]
    public void PerTaskPromptsMatchPeft()
    {
        using var c = new HfCase("gpt2_multitask_prompt_tuning");
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var adapter = MultitaskPromptTuningAdapter.Load(Path.Combine(c.Folder, "adapter"), model.Config, model.TokenEmbeddings);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var tasks = c.Ints("input.task_ids");
        using (new TensorScope())
        {
            var (embeddings, fullMask, labels) = VirtualTokenInputs.Prepend(adapter.VirtualTokens(tasks), model.Embed(ids), mask, c.Ints("input.labels"));
            var output = model.Forward(inputEmbeddings: embeddings, attentionMask: fullMask, labels: labels);
            c.AssertClose("logits", output.Logits.Span, "logits");
            c.AssertClose("train.loss", output.Loss!.Span, "loss");
            output.Loss.Backward();
        }
        c.AssertClose("grad.prompt_encoder.default.embedding.weight", adapter.Prompt.Grad!.Span, "grad");
        c.AssertClose("grad.prompt_encoder.default.prefix_task_cols", adapter.TaskCols.Grad!.Span, "grad");
        c.AssertClose("grad.prompt_encoder.default.prefix_task_rows", adapter.TaskRows.Grad!.Span, "grad");
        var peft = new PeftModel(model);
        peft.LoadAdapter(Path.Combine(c.Folder, "adapter"), "adapter");
        foreach (bool useCache in new[] { true, false })
        {
            var sequences = peft.Generate(ids, mask, new GenerationOptions { MaxNewTokens = 8, UseCache = useCache }, tasks);
            CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), sequences.ToArray(), $"useCache={useCache}");
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => adapter.VirtualTokens(IntTensor.FromArray([0, 2], 2))).Message, "[0, 2)");
    }
}
