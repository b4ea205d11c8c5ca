using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Loading;
using Peft.Transformers.Masking;
using Peft.Transformers.Models;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Tests;

/// <summary>
/// A forward that keeps only the last positions' logits (generation's prompt pass) runs the last block past its keys and
/// values on those positions alone: the logits, the cache it fills and the next step must be those of the full pass.
/// </summary>
[TestClass]
public sealed class LastBlockRowsTests
{
    /// <summary>Records the row count of every input a linear layer sees; changes nothing.</summary>
    private sealed class InputRecorder : ILinearAdapter
    {
        public List<int> Rows { get; } = [];

        public bool IsActive => true;

        public Tensor AdaptInput(LinearLayer layer, Tensor input)
        {
            Rows.Add(input.Shape[input.Rank - 2]);
            return input;
        }

        public Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output) => output;
    }

    private static string FeedForwardName(CausalLanguageModel model, int layer) => model.Config.Family == Configuration.ModelFamily.Gpt2
        ? $"transformer.h.{layer}.mlp.c_fc"
        : $"model.layers.{layer}.mlp.up_proj";

    private static InputRecorder Record(CausalLanguageModel model, string name)
    {
        var recorder = new InputRecorder();
        model.LinearLayers.Single(l => l.Name == name).AddAdapter(recorder);
        return recorder;
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void OnlyTheLastBlockDropsPositionsAndOnlyWhenNoHiddenStatesAreAsked(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        int length = ids.Shape[1], last = model.Config.NumLayers - 1;
        Assert.IsGreaterThan(2, length, "the fixture's prompt must be longer than the kept positions");
        var first = Record(model, FeedForwardName(model, 0));
        var lastBlock = Record(model, FeedForwardName(model, last));
        using var scope = new TensorScope();

        model.Forward(inputIds: ids, logitsToKeep: 2);
        CollectionAssert.AreEqual(new[] { length }, first.Rows, "the first block computes every position");
        CollectionAssert.AreEqual(new[] { 2 }, lastBlock.Rows, "the last block's feed-forward sees only the kept positions");

        // Every layer's hidden states are asked for: the last block's are whole, only the logits are cut.
        var withHidden = model.Forward(inputIds: ids, logitsToKeep: 2, outputHiddenStates: true);
        Assert.AreEqual(length, lastBlock.Rows[^1]);
        Assert.AreEqual(length, withHidden.HiddenStates![^1].Shape[1]);
        Assert.AreEqual(2, withHidden.Logits.Shape[1]);

        // Nothing to drop when every position is kept.
        model.Forward(inputIds: ids, logitsToKeep: length);
        Assert.AreEqual(length, lastBlock.Rows[^1]);
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void ATrimmedPromptPassFillsTheCacheAndScoresAsTheFullPass(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");   // padded rows: the kept rows' masks must be the right ones
        int batch = ids.Shape[0], length = ids.Shape[1], vocab = model.Config.VocabSize;
        using var scope = new TensorScope();
        var fullCache = new DynamicCache(model.CacheLayoutFor(batch));
        var trimmedCache = new DynamicCache(model.CacheLayoutFor(batch));
        var full = model.Forward(inputIds: ids, attentionMask: mask, cache: fullCache).Logits;
        var trimmed = model.Forward(inputIds: ids, attentionMask: mask, cache: trimmedCache, logitsToKeep: 1).Logits;
        AssertLastPositionClose(full, trimmed, batch, length, vocab, "prompt pass");

        // Keys and values come from the same products on every position: bit for bit the full pass's, last layer included.
        var fullLayers = fullCache.ToLayerList();
        var trimmedLayers = trimmedCache.ToLayerList();
        for (int layer = 0; layer < fullLayers.Count; layer++)
        {
            CollectionAssert.AreEqual(fullLayers[layer].Keys.Span.ToArray(), trimmedLayers[layer].Keys.Span.ToArray(), $"keys of layer {layer}");
            CollectionAssert.AreEqual(fullLayers[layer].Values.Span.ToArray(), trimmedLayers[layer].Values.Span.ToArray(), $"values of layer {layer}");
        }

        // The next step over each cache.
        var next = IntTensor.FromArray([.. Enumerable.Range(0, batch).Select(b => (7 * b + 3) % vocab)], batch, 1);
        var nextMask = AttentionMasks.WithLeadingOnes(null, batch, 1, 0);
        var stepMask = Concat(mask, nextMask);
        var fullStep = model.Forward(inputIds: next, attentionMask: stepMask, cache: fullCache).Logits;
        var trimmedStep = model.Forward(inputIds: next, attentionMask: stepMask, cache: trimmedCache, logitsToKeep: 1).Logits;
        CollectionAssert.AreEqual(fullStep.Span.ToArray(), trimmedStep.Span.ToArray(), "one new position: nothing to trim, same bits");
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void ATrimmedPassAfterAPrefixScoresAsTheFullPass(string caseName)
    {
        using var c = new HfCase(caseName);
        var model = ModelLoader.LoadCausal(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        int batch = ids.Shape[0], length = ids.Shape[1], vocab = model.Config.VocabSize, virtualTokens = 3;
        var layout = model.CacheLayoutFor(batch);
        var random = new Random(5);
        Tensor Random() => Tensor.FromArray(
            [.. Enumerable.Range(0, layout.KeyValueHeads * virtualTokens * layout.HeadDim).Select(_ => (float)(random.NextDouble() * 2 - 1))],
            1, layout.KeyValueHeads, virtualTokens, layout.HeadDim);
        var prefix = new PrefixKeyValues([.. Enumerable.Range(0, model.Config.NumLayers).Select(_ => (Random(), Random()))], batch);
        var keyMask = AttentionMasks.WithLeadingOnes(mask, batch, length, virtualTokens);
        using var scope = new TensorScope();
        var full = model.Forward(inputIds: ids, attentionMask: keyMask, prefix: prefix).Logits;
        foreach (int keep in new[] { 1, 2 })
        {
            var trimmed = model.Forward(inputIds: ids, attentionMask: keyMask, prefix: prefix, logitsToKeep: keep).Logits;
            Assert.AreEqual(keep, trimmed.Shape[1]);
            AssertLastPositionClose(full, Ops.Slice(trimmed, 1, keep - 1, 1), batch, length, vocab, $"prefix, logitsToKeep {keep}");
        }
    }

    /// <summary>The last position's logits of <paramref name="full"/> [B, length, V] against <paramref name="last"/> [B, 1, V].</summary>
    private static void AssertLastPositionClose(Tensor full, Tensor last, int batch, int length, int vocab, string what)
    {
        Assert.AreEqual(1, last.Shape[1], what);
        for (int b = 0; b < batch; b++)
            for (int v = 0; v < vocab; v++)
            {
                // Fewer rows may take another GEMM path that sums in another order: float rounding only.
                float expected = full.Span[(b * length + length - 1) * vocab + v], actual = last.Span[b * vocab + v];
                Assert.AreEqual(expected, actual, 1e-5f + 1e-5f * Math.Abs(expected), $"{what}: row {b}, token {v}");
            }
    }

    private static IntTensor Concat(IntTensor a, IntTensor b)
    {
        int batch = a.Shape[0], la = a.Shape[1], lb = b.Shape[1];
        var joined = IntTensor.Zeros(new Shape(batch, la + lb));
        for (int r = 0; r < batch; r++)
        {
            a.Span.Slice(r * la, la).CopyTo(joined.Span.Slice(r * (la + lb)));
            b.Span.Slice(r * lb, lb).CopyTo(joined.Span.Slice(r * (la + lb) + la));
        }
        return joined;
    }
}
