using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests.Contracts;

/// <summary>The method registry is the one list of methods, and the contract table covers every entry of it.</summary>
[TestClass]
public sealed class MethodRegistryTests
{
    [TestMethod]
    public void EveryRegisteredMethodIsInTheContractTable()
    {
        var tabled = MethodMatrix.Methods.Select(m => m.Config(ModelFamily.Gpt2).GetType()).ToHashSet();
        foreach (var method in PeftMethods.All)
            Assert.IsTrue(tabled.Contains(method.ConfigType),
                $"{method.PeftType} ({method.ConfigType.Name}) is registered but has no entry in MethodMatrix.Methods");
        Assert.AreEqual(PeftMethods.All.Count, PeftMethods.All.Select(m => m.PeftType).Distinct().Count(), "peft_type names are unique");
        Assert.AreEqual(PeftMethods.All.Count, PeftMethods.All.Select(m => m.ConfigType).Distinct().Count(), "config types are unique");
        CollectionAssert.AreEqual(PeftMethods.All.Select(m => m.PeftType).ToArray(), AdapterFactory.SupportedTypes.ToArray());
        foreach (var entry in MethodMatrix.Methods)
        {
            var config = entry.Config(ModelFamily.Gpt2);
            Assert.AreEqual(config.PeftType, PeftMethods.ForConfig(config)!.PeftType, $"{entry.Name}: the registry finds its method by config type");
        }
    }

    [TestMethod]
    public void AnUnregisteredConfigTypeFailsNamingTheSupportedOnes()
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        var ex = Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("x", new UnknownConfig()));
        StringAssert.Contains(ex.Message, "VERA");
        StringAssert.Contains(ex.Message, string.Join(", ", AdapterFactory.SupportedTypes));
        Assert.AreEqual(0, model.AdapterNames.Count);
    }

    private sealed record UnknownConfig : IPeftConfig
    {
        public string PeftType => "VERA";

        public ModelTask? TaskType => null;

        public JsonObject ToJson(ModelConfig model) => [];
    }
}
