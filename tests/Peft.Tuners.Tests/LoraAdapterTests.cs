using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class LoraAdapterTests
{
    [TestMethod]
    public void SavedAdapterMatchesPeftFilesAndLoadsBackBitForBit()
    {
        string source = Fixtures.Hf("gpt2_lora", "adapter");
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_lora", "base"));
        var adapter = LoraAdapter.Load(source, model.LinearLayers);
        string target = Directory.CreateTempSubdirectory("peft-lora-").FullName;
        try
        {
            adapter.Save(target);
            // Same keys, dtypes, shapes and bytes as PEFT's own file.
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(source, "adapter_model.safetensors")),
                File.ReadAllBytes(Path.Combine(target, "adapter_model.safetensors")));
            var other = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_lora", "base"));
            var reloaded = LoraAdapter.Load(target, other.LinearLayers);
            Assert.AreEqual(adapter.Config.Scaling, reloaded.Config.Scaling);
            foreach (var (a, b) in adapter.Parameters.Zip(reloaded.Parameters)) CollectionAssert.AreEqual(a.ToArray(), b.ToArray(), a.Name);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [TestMethod]
    public void FreshAdapterStartsAsIdentityAndTrainsOnlyItsWeights()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base"));
        var ids = IntTensor.FromArray([5, 6, 7, 8, 9], 1, 5);
        float[] before;
        using (Autograd.NoGrad()) before = model.Forward(inputIds: ids).Logits.ToArray();
        var adapter = LoraAdapter.Attach(model.LinearLayers,
            new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = TargetModules.FromPattern(@".*\.(q_proj|v_proj)") }, seed: 3);
        Assert.AreEqual(2 * model.Config.NumLayers, adapter.Layers.Count);
        using (Autograd.NoGrad()) CollectionAssert.AreEqual(before, model.Forward(inputIds: ids).Logits.ToArray());
        using (new TensorScope()) model.Forward(inputIds: ids, labels: ids).Loss!.Backward();
        Assert.IsTrue(adapter.Parameters.All(p => p.Grad is not null));
        Assert.IsTrue(model.Parameters.All.All(p => p.Tensor.Grad is null));
        adapter.Detach();
        Assert.IsTrue(model.LinearLayers.All(l => l.Adapters.Count == 0));
    }

    [TestMethod]
    public void BadConfigsAndMismatchedBasesFailClearly()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() =>
            LoraAdapter.Attach(model.LinearLayers, new LoraConfig { TargetModules = TargetModules.FromNames("q_proj") }));
        StringAssert.Contains(ex.Message, "matches no linear layer");
        StringAssert.Contains(ex.Message, "transformer.h.0.attn.c_attn");
        Assert.ThrowsExactly<AdapterConfigException>(() =>
            LoraAdapter.Attach(model.LinearLayers, new LoraConfig { R = 0, TargetModules = TargetModules.FromNames("c_attn") }));
        // A llama LoRA adapter on a gpt2 base: its target modules match nothing here.
        Assert.ThrowsExactly<AdapterConfigException>(() => LoraAdapter.Load(Fixtures.Hf("llama_lora", "adapter"), model.LinearLayers));
        Assert.ThrowsExactly<FileNotFoundException>(() => LoraAdapter.Load(Path.GetTempPath(), model.LinearLayers));
    }

    /// <summary>
    /// An integer field holding anything but a whole number is an error naming the field (afl: "r": false threw
    /// InvalidOperationException from JsonElement.TryGetInt32, and 1.5 a FormatException); absent or null takes the default.
    /// </summary>
    [TestMethod]
    [DataRow("false")]
    [DataRow("\"8\"")]
    [DataRow("1.5")]
    [DataRow("1e12")]
    public void AnIntegerFieldThatIsNoWholeNumberIsNamed(string value)
    {
        static LoraConfig Parse(string r) => LoraConfig.FromJson(
            System.Text.Json.JsonDocument.Parse($"{{\"peft_type\": \"LORA\", \"r\": {r}, \"target_modules\": [\"c_attn\"]}}").RootElement);
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => Parse(value));
        StringAssert.Contains(ex.Message, "'r' must be a whole number");
        StringAssert.Contains(ex.Message, value);
        Assert.AreEqual(8, Parse("null").R);
        Assert.AreEqual(4, Parse("4").R);
    }
}
