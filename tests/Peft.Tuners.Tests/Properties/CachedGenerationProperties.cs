using CsCheck;
using Peft.Transformers.Generation;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Tests.Contracts;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Cached == uncached on random models: a key/value cache (growing or static) only saves
/// recomputing the past, so greedy generation with it gives the tokens a full forward pass per
/// step gives (also on a cache an earlier generation left to the model), whatever the family, sizes, quantization of the base (half the cases: int8, NF4,
/// NF4-DQ), PEFT method and settings, adapter weights, batch, prompt lengths and left padding. The fixed table of <see cref="AdapterContractTests"/> checks one
/// batch per method on the fixture bases; this draws them.
/// </summary>
[TestClass]
public sealed class CachedGenerationProperties
{
    private const int Iterations = 1000;

    [TestMethod]
    public void CachedGreedyGenerationEqualsUncached()
    {
        Gen.Select(TinyModelSpec.Generate, RandomAdapterSpec.Generate, RandomPrompts.Generate, RandomQuantization.Generate.Null(nullFraction: 0.5))
            .Sample((spec, adapterSpec, prompts, quantization) =>
        {
            var baseModel = spec.Build();
            quantization?.Apply(baseModel, spec);
            var model = new PeftModel(baseModel) { Placement = prompts.Placement };
            adapterSpec.AddTo(model, spec);
            var ids = prompts.Ids(spec.Vocab);
            var mask = prompts.Mask();
            var taskIds = adapterSpec.TaskIds(prompts.RowTasks);
            var options = new GenerationOptions
            {
                MaxNewTokens = prompts.MaxNewTokens, EosTokenIds = [], PadTokenId = 0, RepetitionPenalty = prompts.Penalized ? 1.5f : 1f, UseCache = false,
            };
            int[] uncached = model.Generate(ids, mask, options, taskIds).ToArray();
            Same.Ints(uncached, model.Generate(ids, mask, options with { UseCache = true }, taskIds).ToArray(), "cached (dynamic) vs uncached");
            Same.Ints(uncached, model.Generate(ids, mask, options with { UseCache = true, UseStaticCache = true }, taskIds).ToArray(),
                "cached (static) vs uncached");
            // The dynamic run left its cache to the base model; this one takes it emptied (prefix and all).
            Same.Ints(uncached, model.Generate(ids, mask, options with { UseCache = true }, taskIds).ToArray(),
                "cached (dynamic, on the cache the first dynamic run left) vs uncached");
        }, iter: Iterations);
    }
}
