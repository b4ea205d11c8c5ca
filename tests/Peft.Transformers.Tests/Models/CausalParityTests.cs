using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Masking;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class CausalParityTests
{
    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void LogitsHiddenStatesAndLossMatchHuggingFace(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var labels = c.Ints("input.labels");
        using var scope = new TensorScope();
        var output = model.Forward(inputIds: ids, attentionMask: mask, labels: labels, outputHiddenStates: true);
        c.AssertClose("logits", output.Logits.Span, "logits");
        c.AssertClose("hidden.embeddings", output.HiddenStates![0].Span, "hidden_or_cache");
        c.AssertClose("hidden.last", output.HiddenStates[^1].Span, "hidden_or_cache");
        c.AssertClose("train.loss", output.Loss!.Span, "loss");

        var positions = PositionIds.FromAttentionMask(mask, ids.Shape[1]);
        var maskPos = model.Forward(inputIds: ids, attentionMask: mask, positionIds: positions);
        c.AssertClose("logits_maskpos", maskPos.Logits.Span, "logits");
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void LogitsToKeepScoresTheLastPositionsOfEveryRowAsTheFullForwardDoes(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        int batch = ids.Shape[0], length = ids.Shape[1], vocab = model.Config.VocabSize;
        using var scope = new TensorScope();
        var full = model.Forward(inputIds: ids, attentionMask: mask).Logits;
        foreach (int keep in new[] { 1, 2, length, length + 3 })
        {
            var kept = model.Forward(inputIds: ids, attentionMask: mask, logitsToKeep: keep).Logits;
            int rows = Math.Min(keep, length);
            CollectionAssert.AreEqual(new[] { batch, rows, vocab }, kept.Shape.ToArray(), $"logitsToKeep {keep}");
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < rows; t++)
                    for (int v = 0; v < vocab; v++)
                    {
                        // The head multiplies fewer rows, so another kernel path may sum in another order: float rounding only.
                        float expected = full.Span[(b * length + length - rows + t) * vocab + v], actual = kept.Span[(b * rows + t) * vocab + v];
                        Assert.AreEqual(expected, actual, 1e-5f + 1e-5f * Math.Abs(expected), $"logitsToKeep {keep}, row {b}, position {t}, token {v}");
                    }
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward(inputIds: ids, logitsToKeep: -1));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(inputIds: ids, labels: ids, logitsToKeep: 1));
        StringAssert.Contains(ex.Message, "labels");
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void CacheAfterPromptMatchesHuggingFace(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var cache = new DynamicCache(model.CacheLayoutFor(ids.Shape[0]));
        using var scope = new TensorScope();
        // The fixture's cache comes from forward() without position ids (like its logits).
        model.Forward(inputIds: ids, attentionMask: mask, cache: cache);
        var layer0 = cache.ToLayerList()[0];
        c.AssertClose("past.layer0.key", layer0.Keys.Span, "hidden_or_cache");
        c.AssertClose("past.layer0.value", layer0.Values.Span, "hidden_or_cache");
    }

    [TestMethod]
    [DataRow("gpt2_base", false, false)]
    [DataRow("gpt2_base", true, false)]
    [DataRow("gpt2_base", true, true)]
    [DataRow("llama_base", false, false)]
    [DataRow("llama_base", true, false)]
    [DataRow("llama_base", true, true)]
    public void GreedyGenerationMatchesHuggingFaceWithAndWithoutCache(string caseName, bool useCache, bool staticCache)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var gen = c.Case.GetProperty("generation");
        var options = new GenerationOptions
        {
            MaxNewTokens = gen.GetProperty("max_new_tokens").GetInt32(),
            UseCache = useCache,
            UseStaticCache = staticCache,
        };
        var steps = new List<float[]>();
        var sequences = new CausalGenerator(model).Generate(c.Ints("input.input_ids"), c.Ints("input.attention_mask"), options, steps);
        string reference = c.Case.TryGetProperty("generation_reference", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String
            ? r.GetString()!
            : "generate.ids";
        CollectionAssert.AreEqual(c.Expected.ReadInt32(reference), sequences.ToArray(), $"{caseName} sequences");
        c.AssertClose("generate.step_logits", steps.SelectMany(s => s).ToArray(), "logits");
    }
}
