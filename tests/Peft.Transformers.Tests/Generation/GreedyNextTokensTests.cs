using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

/// <summary>
/// Greedy decoding without the logits (the model's <see cref="Models.CausalLanguageModel.GreedyNextTokens"/>, which
/// screens a frozen float head through an int8 copy) picks exactly the tokens the full logits give.
/// </summary>
[TestClass]
public sealed class GreedyNextTokensTests
{
    /// <summary>float32, and a 16-bit copy of the head (what a 16-bit checkpoint gets), which is screened too.</summary>
    private static Models.CausalLanguageModel Load(string name, string head) => ModelLoader.LoadCausal(Fixtures.Hf(name, "base"), head switch
    {
        "bf16" => new LoadOptions { Quantization = QuantizationFormat.BFloat16, QuantizeLmHead = true },
        "f16" => new LoadOptions { Quantization = QuantizationFormat.Float16, QuantizeLmHead = true },
        _ => null,
    });

    [TestMethod]
    [DataRow("gpt2_base", "f32")]
    [DataRow("llama_base", "f32")]
    [DataRow("gpt2_base", "bf16")]
    [DataRow("llama_base", "f16")]
    public void TheNextTokensAreTheFirstMaximaOfTheLastLogits(string name, string head)
    {
        var model = Load(name, head);
        Assert.AreEqual(head != "f32", model.QuantizedHead is not null);
        int vocab = model.Config.VocabSize;
        // One row; two rows with left padding; five rows (past the rows the head screens: the full product).
        foreach (var (ids, mask) in new[]
        {
            (IntTensor.FromArray([5, 9, 13, 2], 1, 4), IntTensor.FromArray([1, 1, 1, 1], 1, 4)),
            (IntTensor.FromArray([0, 0, 7, 3, 44, 7, 1, 30], 2, 4), IntTensor.FromArray([0, 0, 1, 1, 1, 1, 1, 1], 2, 4)),
            (IntTensor.FromArray([.. Enumerable.Range(0, 15).Select(i => (i * 37 + 3) % vocab)], 5, 3), IntTensor.FromArray([.. Enumerable.Repeat(1, 15)], 5, 3)),
        })
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            var logits = model.Forward(inputIds: ids, attentionMask: mask, logitsToKeep: 1).Logits.ToArray();
            int rows = ids.Shape[0];
            var expected = Enumerable.Range(0, rows).Select(r => FirstMaximum.IndexOf(logits.AsSpan(r * vocab, vocab))).ToArray();
            CollectionAssert.AreEqual(expected, model.GreedyNextTokens(inputIds: ids, attentionMask: mask), $"{name}, {rows} rows");
        }
    }

    [TestMethod]
    [DataRow("gpt2_base", "f32")]
    [DataRow("llama_base", "f32")]
    [DataRow("gpt2_base", "f16")]
    [DataRow("llama_base", "bf16")]
    public void GreedyGenerationGivesTheTokensOfTheFullLogitsCachedAndUncached(string name, string head)
    {
        var model = Load(name, head);
        var generator = new CausalGenerator(model);
        // 40 new tokens: the head's screen is made after 32 greedy steps, so the first run switches to it mid-way and the
        // later runs use it from their first step.
        var options = new GenerationOptions { MaxNewTokens = 40, EosTokenIds = [] };
        foreach (var ids in new[] { IntTensor.FromArray([5, 9, 13], 1, 3), IntTensor.FromArray([5, 9, 13, 2, 44, 7], 2, 3) })
        {
            // Keeping each step's logits makes the generator select from them (the full head); without, it asks the step.
            var full = generator.Generate(ids, null, options, stepLogits: []).ToArray();
            CollectionAssert.AreEqual(full, generator.GenerateGreedy(ids, null, options).ToArray(), $"{name}: cached");
            CollectionAssert.AreEqual(full, generator.GenerateGreedy(ids, null, options with { UseCache = false }).ToArray(), $"{name}: uncached");
        }
    }
}
