using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class MergeTests
{
    private static PeftModel Gpt2() => new(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));

    private static readonly IntTensor Ids = IntTensor.FromArray([5, 9, 13, 2, 44, 7, 8, 21, 3, 60], 2, 5);

    private static float[] Logits(PeftModel model)
    {
        using (Autograd.NoGrad())
        using (new TensorScope())
            return model.Forward(Ids).Logits.ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], tolerance * (1 + Math.Abs(expected[i])), $"{what}: element {i}");
    }

    private static LoraAdapter Lora(PeftModel model, string name, ulong seed, int rank = 2, bool rs = false)
    {
        var lora = (LoraAdapter)model.AddAdapter(name,
            new LoraConfig { R = rank, LoraAlpha = 5, UseRsLora = rs, TargetModules = TargetModules.FromNames("c_attn", "c_fc") }, seed);
        var random = new SeededRandom(seed + 100);
        foreach (var layer in lora.Layers)
            for (int i = 0; i < layer.B.Length; i++) layer.B.Span[i] = random.NextNormal() * 0.05f;
        return lora;
    }

    private static float[] Weights(PeftModel model) => model.BaseModel.LinearLayers.SelectMany(l => l.Weight.ToArray()).ToArray();

    [TestMethod]
    public void LoraMergedGivesTheUnmergedOutputsAndUnmergeRestoresTheBase()
    {
        var model = Gpt2();
        var baseWeights = Weights(model);
        var lora = Lora(model, "lora", 1);
        var unmerged = Logits(model);
        model.MergeAdapter("lora");
        Assert.IsTrue(lora.IsMerged);
        CollectionAssert.AreNotEqual(baseWeights, Weights(model));
        AssertClose(unmerged, Logits(model), 1e-5f, "merged vs unmerged");
        model.UnmergeAdapter("lora");
        AssertClose(baseWeights, Weights(model), 1e-6f, "base weights after unmerge");
        AssertClose(unmerged, Logits(model), 1e-5f, "unmerged again");
        Assert.ThrowsExactly<InvalidOperationException>(() => model.UnmergeAdapter("lora"));
    }

    [TestMethod]
    public void DisablingAMergedAdapterUnmergesItSoTheBaseRuns()
    {
        var model = Gpt2();
        var baseLogits = Logits(model);
        Lora(model, "lora", 2);
        model.MergeAdapter("lora");
        using (model.DisableAdapters())
            AssertClose(baseLogits, Logits(model), 1e-5f, "disabled while merged");
    }

    [TestMethod]
    public void LoraMergesAndUnloadsWhileAPrefixStays()
    {
        var model = Gpt2();
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3 }, seed: 4);
        Lora(model, "lora", 3);
        model.SetActiveAdapters("prefix", "lora");
        var both = Logits(model);
        model.MergeAndUnload("lora");
        CollectionAssert.AreEqual(new[] { "prefix" }, model.AdapterNames.ToArray());
        Assert.IsTrue(model.BaseModel.LinearLayers.All(l => l.Adapters.Count == 0), "no LoRA layer is left attached");
        AssertClose(both, Logits(model), 1e-5f, "prefix + merged LoRA");
        using (new TensorScope())
            model.Forward(Ids, labels: Ids).Loss!.Backward();
        Assert.IsNotNull(((PrefixTuningAdapter)model["prefix"]).Embedding.Grad, "the prefix still trains on the merged base");
    }

    [TestMethod]
    public void Ia3MergedGivesTheUnmergedOutputsOnScaledInputsAndOutputs()
    {
        var model = Gpt2();
        var baseWeights = Weights(model);
        var ia3 = (Ia3Adapter)model.AddAdapter("ia3",
            new Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"), FeedforwardModules = TargetModules.FromNames("mlp.c_proj") });
        var random = new SeededRandom(9);
        foreach (var layer in ia3.Layers)
            for (int i = 0; i < layer.Scale.Length; i++) layer.Scale.Span[i] = 0.5f + random.NextFloat();
        Assert.IsTrue(ia3.Layers.Any(l => l.IsFeedforward) && ia3.Layers.Any(l => !l.IsFeedforward));
        var unmerged = Logits(model);
        model.MergeAdapter("ia3");
        AssertClose(unmerged, Logits(model), 1e-5f, "merged vs unmerged");
        model.UnmergeAdapter("ia3");
        AssertClose(baseWeights, Weights(model), 1e-6f, "base weights after unmerge");
        model.MergeAndUnload("ia3");
        Assert.AreEqual(0, model.AdapterNames.Count);
        AssertClose(unmerged, Logits(model), 1e-5f, "after merge-and-unload");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void AWeightedCombinationOfOneAdapterWithWeightOneReproducesItExactly(bool rsLora)
    {
        var model = Gpt2();
        Lora(model, "a", 5, rank: 3, rs: rsLora);
        var original = Logits(model);
        var combined = (LoraAdapter)model.AddWeightedAdapter(["a"], [1f], "copy");
        model.SetAdapter("copy");
        CollectionAssert.AreEqual(original, Logits(model));
        Assert.AreEqual(3, combined.Config.R);
    }

    [TestMethod]
    public void AWeightedCombinationAddsTheWeightedUpdatesAndSavesAndReloads()
    {
        var model = Gpt2();
        var a = Lora(model, "a", 6, rank: 2);
        var b = (LoraAdapter)model.AddAdapter("b", new LoraConfig { R = 4, LoraAlpha = 3, TargetModules = TargetModules.FromNames("c_attn") }, 7);
        foreach (var layer in b.Layers) layer.B.Span.Fill(0.02f);
        model.AddWeightedAdapter(["a", "b"], [0.5f, -2f], "mix");
        model.SetAdapter("mix");
        var mixed = Logits(model);

        // The same update from the sources themselves: B scaled by the weights, both active at once.
        foreach (var layer in a.Layers) ScaleInPlace(layer.B, 0.5f);
        foreach (var layer in b.Layers) ScaleInPlace(layer.B, -2f);
        model.SetActiveAdapters("a", "b");
        AssertClose(Logits(model), mixed, 1e-5f, "combined vs weighted sources");

        string folder = Directory.CreateTempSubdirectory("peft-mix-").FullName;
        try
        {
            model.SaveAdapter("mix", folder);
            var reloaded = Gpt2();
            reloaded.LoadAdapter(folder, "mix");
            AssertClose(mixed, Logits(reloaded), 1e-5f, "reloaded");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            model.AddWeightedAdapter(["a"], [1f, 2f], "bad")).Message, "one weight per adapter");
    }

    private static void ScaleInPlace(Tensor t, float factor)
    {
        for (int i = 0; i < t.Length; i++) t.Span[i] *= factor;
    }
}
