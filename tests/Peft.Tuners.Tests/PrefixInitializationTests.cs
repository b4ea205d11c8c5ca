using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PrefixInitializationTests
{
    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama")]
    public void ATextInitializedPrefixActsExactlyLikeTheTextInFrontOfTheInput(string family)
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base")));
        int[] text = [17, 4, 99, 23, 8, 61];
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 4, Initialization = PrefixInitialization.Text, InitText = "some words" },
            tokenize: _ => text);
        int[] input = [5, 44, 12];
        float[] withPrefix, withText;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            withPrefix = model.Forward(IntTensor.FromArray(input, 1, 3)).Logits.ToArray();
            using (model.DisableAdapters())
                withText = model.Forward(IntTensor.FromArray([.. text.Take(4), .. input], 1, 7)).Logits.ToArray();
        }
        int vocab = model.BaseModel.Config.VocabSize;
        for (int i = 0; i < withPrefix.Length; i++)
            Assert.AreEqual(withText[4 * vocab + i], withPrefix[i], 2e-5f, $"logit {i}: the prefix holds the text's own key/values at positions 0..3");
    }

    [TestMethod]
    public void ZeroAndTextInitializationsAndTheirErrors()
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        var zero = (PrefixTuningAdapter)model.AddAdapter("zero", new PrefixTuningConfig { NumVirtualTokens = 2, Initialization = PrefixInitialization.Zero });
        Assert.IsTrue(zero.Embedding.ToArray().All(x => x == 0));
        var text = new PrefixTuningConfig { NumVirtualTokens = 5, Initialization = PrefixInitialization.Text, InitText = "hi" };
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() =>
            model.AddAdapter("short", text, tokenize: _ => [3, 4])).Message, "2 tokens but num_virtual_tokens is 5");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("none", text)).Message, "tokenizer");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() =>
            model.AddAdapter("proj", text with { PrefixProjection = true }, tokenize: _ => [1, 2, 3, 4, 5])).Message, "prefix_projection");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() =>
            model.AddAdapter("odd", new PrefixTuningConfig { Initialization = (PrefixInitialization)7 })).Message, "RANDOM, ZERO, TEXT");
    }
}
