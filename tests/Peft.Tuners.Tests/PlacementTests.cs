using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PlacementTests
{
    private static PeftModel Model(string family, bool prompt, bool prefix)
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base")));
        var names = new List<string>();
        if (prefix)
        {
            model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 2 }, seed: 1);
            names.Add("prefix");
        }
        if (prompt)
        {
            model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 3 }, seed: 2);
            names.Add("prompt");
        }
        model.SetActiveAdapters([.. names]);
        return model;
    }

    [TestMethod]
    [DataRow("gpt2", true, false)]
    [DataRow("gpt2", false, true)]
    [DataRow("gpt2", true, true)]
    [DataRow("llama", true, true)]
    public void NextToInputALeftPaddedRowGivesWhatItGivesAlone(string family, bool prompt, bool prefix)
    {
        var model = Model(family, prompt, prefix);
        model.Placement = VirtualTokenPlacement.NextToInput;
        int v = prompt ? 3 : 0, vocab = model.BaseModel.Config.VocabSize;
        int[] alone = [7, 19, 33];
        var batchIds = IntTensor.FromArray([0, 0, 7, 19, 33, 41, 42, 43, 44, 45], 2, 5);
        var batchMask = IntTensor.FromArray([0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 2, 5);
        float[] single, batched;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            single = model.Forward(IntTensor.FromArray(alone, 1, 3)).Logits.ToArray();
            batched = model.Forward(batchIds, batchMask).Logits.ToArray();
        }
        // Row 0 of the batch: [2 pads][virtual][3 tokens]; alone: [virtual][3 tokens].
        for (int i = 0; i < single.Length; i++)
            Assert.AreEqual(single[i], batched[2 * vocab + i], 2e-5f, $"logit {i}");

        var options = new GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] };
        var generatedAlone = model.Generate(IntTensor.FromArray(alone, 1, 3), null, options).ToArray().Skip(3);
        foreach (var cached in new[] { true, false })
        {
            var generated = model.Generate(batchIds, batchMask, options with { UseCache = cached }).ToArray();
            CollectionAssert.AreEqual(generatedAlone.ToArray(), generated.Skip(5).Take(5).ToArray(), $"cache {cached}");
        }
    }

    [TestMethod]
    public void HuggingFacesLayoutShiftsALeftPaddedGpt2RowWhichIsWhyTheOptionExists()
    {
        var model = Model("gpt2", prompt: true, prefix: false);
        int vocab = model.BaseModel.Config.VocabSize;
        float[] single, batched;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            single = model.Forward(IntTensor.FromArray([7, 19, 33], 1, 3)).Logits.ToArray();
            batched = model.Forward(IntTensor.FromArray([0, 0, 7, 19, 33], 1, 5), IntTensor.FromArray([0, 0, 1, 1, 1], 1, 5)).Logits.ToArray();
        }
        // HF: [virtual][2 pads][tokens] with positions counted over the pads: the last logits differ.
        double difference = Enumerable.Range(0, vocab).Max(i => Math.Abs(single[^(vocab - i)] - batched[^(vocab - i)]));
        Assert.IsGreaterThan(1e-4, difference);
    }
}
