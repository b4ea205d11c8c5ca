using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

/// <summary>The warm-up's small stand-in keeps the network's shape, and the warm-up runs for every family and weight format.</summary>
[TestClass]
public sealed class GenerationWarmupTests
{
    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    [DataRow("t5_base")]
    public void ResizedChangesOnlyTheDepthAndTheVocabulary(string fixture)
    {
        var config = ModelConfig.Load(Fixtures.Hf(fixture, "base"));
        var small = config.Resized(1, 50);
        Assert.AreEqual((1, 50), (small.NumLayers, small.VocabSize));
        Assert.AreEqual(config.IsEncoderDecoder ? 1 : 0, small.NumDecoderLayers);
        Assert.AreEqual(
            (config.Family, config.HiddenSize, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, config.IntermediateSize),
            (small.Family, small.HiddenSize, small.NumAttentionHeads, small.NumKeyValueHeads, small.HeadDim, small.IntermediateSize));
        Assert.AreEqual((config.NormEpsilon, config.HiddenActivation, config.TieWordEmbeddings, config.RopeTheta, config.MaxPositionEmbeddings),
            (small.NormEpsilon, small.HiddenActivation, small.TieWordEmbeddings, small.RopeTheta, small.MaxPositionEmbeddings));
        Assert.AreEqual(config.Source, small.Source);
        // The original is untouched (the resize works on a copy of its JSON).
        Assert.AreEqual(2, config.NumLayers);
    }

    [TestMethod]
    [DataRow("gpt2_base", QuantizationFormat.None)]
    [DataRow("gpt2_base", QuantizationFormat.Int8)]
    [DataRow("llama_base", QuantizationFormat.None)]
    [DataRow("llama_base", QuantizationFormat.BFloat16)]
    [DataRow("llama_base", QuantizationFormat.Nf4)]
    [DataRow("t5_base", QuantizationFormat.None)]
    [DataRow("t5_base", QuantizationFormat.Int8)]
    public void RunsAShortGenerationForEveryFamilyAndFormat(string fixture, QuantizationFormat format)
    {
        var config = ModelConfig.Load(Fixtures.Hf(fixture, "base"));
        var warmup = GenerationWarmup.StartAsync(config, new LoadOptions { Quantization = format });
        Assert.IsTrue(warmup.Wait(TimeSpan.FromSeconds(60)), "the warm-up did not finish within a minute");
        Assert.IsTrue(warmup.IsCompletedSuccessfully);
    }

    [TestMethod]
    public void StopsWhenCancelled()
    {
        var config = ModelConfig.Load(Fixtures.Hf("gpt2_base", "base"));
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var warmup = GenerationWarmup.StartAsync(config, null, cancel.Token);
        var ex = Assert.ThrowsExactly<AggregateException>(() => warmup.Wait());
        Assert.IsInstanceOfType<OperationCanceledException>(ex.InnerException);
        Assert.IsTrue(warmup.IsCanceled);
    }
}
