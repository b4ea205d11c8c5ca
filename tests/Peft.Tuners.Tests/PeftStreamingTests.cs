using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

/// <summary>Streaming goes through the same adapter step as Generate, so it streams exactly the tokens Generate returns.</summary>
[TestClass]
public sealed class PeftStreamingTests
{
    private static async Task<int[]> Stream(PeftModel model, IntTensor ids, GenerationOptions options)
    {
        var tokens = new List<int>();
        await foreach (int id in model.StreamAsync(ids, null, options)) tokens.Add(id);
        return [.. tokens];
    }

    [TestMethod]
    public async Task StreamedTokensEqualGeneratedOnesWithStackedAdapters()
    {
        var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [], RepetitionPenalty = 2f };
        var causal = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base")));
        causal.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 }, seed: 1);
        causal.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3 }, seed: 2);
        causal.SetActiveAdapters("prompt", "prefix");
        var ids = IntTensor.FromArray([5, 9, 13, 2], 1, 4);
        var generated = causal.Generate(ids, null, options).ToArray().Skip(4).ToArray();
        CollectionAssert.AreEqual(generated, await Stream(causal, ids, options), "causal");
        using (causal.DisableAdapters())
            CollectionAssert.AreNotEqual(generated, causal.Generate(ids, null, options).ToArray().Skip(4).ToArray(),
                "the adapters change what is generated, so equality above is not vacuous");

        var t5 = new PeftModel(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));
        t5.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3, Seq2SeqPrefix = Seq2SeqPrefixMode.All }, seed: 3);
        var source = IntTensor.FromArray([5, 9, 13], 1, 3);
        var decoded = t5.Generate(source, null, options).ToArray().Skip(1).ToArray();
        CollectionAssert.AreEqual(decoded, await Stream(t5, source, options), "seq2seq");
    }

    [TestMethod]
    public void APromptRowOfOnlyPaddingIsRefusedByName()
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        model.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn") });
        var ids = IntTensor.FromArray([5, 9, 0, 0], 2, 2);
        var mask = IntTensor.FromArray([1, 1, 0, 0], 2, 2);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => model.Generate(ids, mask, new GenerationOptions { MaxNewTokens = 2 }));
        StringAssert.Contains(ex.Message, "row 1");
    }
}
