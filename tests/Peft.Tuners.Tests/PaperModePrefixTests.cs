using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PaperModePrefixTests
{
    private static PeftModel T5() => new(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));

    private static readonly IntTensor Source = IntTensor.FromArray([5, 9, 13, 2, 0, 7, 8, 21, 3, 60], 2, 5);
    private static readonly IntTensor SourceMask = IntTensor.FromArray([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], 2, 5);

    [TestMethod]
    public void EncoderSelfDecoderSelfAndCrossAttentionPrefixesAllTrain()
    {
        var model = T5();
        var config = model.BaseModel.Config;
        var prefix = (PrefixTuningAdapter)model.AddAdapter("paper",
            new PrefixTuningConfig { NumVirtualTokens = 3, Seq2SeqPrefix = Seq2SeqPrefixMode.All }, seed: 3);
        int dim = config.NumAttentionHeads * config.HeadDim, encoder = config.NumLayers, decoder = config.NumDecoderLayers;
        Assert.AreEqual((2 * encoder + 4 * decoder) * dim, prefix.Embedding.Shape[1]);
        using (new TensorScope())
            model.Forward(Source, SourceMask, labels: IntTensor.FromArray([4, 6, 1, 9, 12, 1], 2, 3)).Loss!.Backward();
        var grad = prefix.Embedding.Grad!.ToArray();
        int width = prefix.Embedding.Shape[1];
        double Region(int fromChunk, int toChunk) =>
            Enumerable.Range(0, 3).Sum(t => Enumerable.Range(fromChunk * dim, (toChunk - fromChunk) * dim).Sum(c => Math.Abs(grad[t * width + c])));
        Assert.IsGreaterThan(0.0, Region(0, 2 * encoder), "encoder self-attention prefix");
        Assert.IsGreaterThan(0.0, Region(2 * encoder, 2 * encoder + 2 * decoder), "decoder self-attention prefix");
        Assert.IsGreaterThan(0.0, Region(2 * encoder + 2 * decoder, 2 * encoder + 4 * decoder), "cross-attention prefix");
    }

    [TestMethod]
    public void CachedAndUncachedGenerationAgreeAlsoStackedWithAnHfModePrefix()
    {
        var model = T5();
        model.AddAdapter("paper", new PrefixTuningConfig { NumVirtualTokens = 3, Seq2SeqPrefix = Seq2SeqPrefixMode.All, PrefixProjection = true,
            EncoderHiddenSize = 8 }, seed: 1);
        model.LoadAdapter(Fixtures.Hf("t5_prefix_tuning", "adapter"), "hf");
        foreach (var active in new[] { new[] { "paper" }, ["hf", "paper"] })
        {
            model.SetActiveAdapters(active);
            var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [] };
            var cached = model.Generate(Source, SourceMask, options).ToArray();
            var uncached = model.Generate(Source, SourceMask, options with { UseCache = false }).ToArray();
            CollectionAssert.AreEqual(uncached, cached, string.Join("+", active));
        }
    }

    [TestMethod]
    public void APaperModeAdapterSavesAndLoadsBackInItsMode()
    {
        var model = T5();
        model.AddAdapter("paper", new PrefixTuningConfig { NumVirtualTokens = 2, Seq2SeqPrefix = Seq2SeqPrefixMode.All }, seed: 2);
        var labels = IntTensor.FromArray([4, 6, 1, 9, 12, 1], 2, 3);
        float[] expected;
        using (Autograd.NoGrad())
        using (new TensorScope())
            expected = model.Forward(Source, SourceMask, labels).Logits.ToArray();
        string folder = Directory.CreateTempSubdirectory("peft-paper-").FullName;
        try
        {
            model.SaveAdapter("paper", folder);
            StringAssert.Contains(File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName)), "peft_mlnet_seq2seq_prefix");
            var reloaded = T5();
            reloaded.LoadAdapter(folder, "paper");
            using (Autograd.NoGrad())
            using (new TensorScope())
                CollectionAssert.AreEqual(expected, reloaded.Forward(Source, SourceMask, labels).Logits.ToArray());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
        var gpt2 = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() =>
            gpt2.AddAdapter("x", new PrefixTuningConfig { Seq2SeqPrefix = Seq2SeqPrefixMode.All })).Message, "decoder-only");
    }
}
