using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

/// <summary>
/// A prefix of one row shared by the batch (what prefix tuning makes) must act exactly like that row repeated for
/// every row of the batch: same loss, same gradient into the row, same cache contents.
/// </summary>
[TestClass]
public sealed class SharedPrefixTests
{
    private const int Batch = 3, Virtual = 2;

    private static (Tensor Keys, Tensor Values)[] Rows(CacheLayout layout, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        var shape = new Shape(1, layout.KeyValueHeads, Virtual, layout.HeadDim);
        return [.. Enumerable.Range(0, layout.Layers).Select(_ =>
            (Tensor.Parameter(TensorInit.Normal(shape, 0, 1, random).ToArray(), shape),
             Tensor.Parameter(TensorInit.Normal(shape, 0, 1, random).ToArray(), shape)))];
    }

    /// <summary>The prefix as shared rows, or as those rows repeated into batch-sized tensors (the form before sharing).</summary>
    private static PrefixKeyValues Prefix((Tensor Keys, Tensor Values)[] rows, bool shared) => shared
        ? new PrefixKeyValues(rows, Batch)
        : new PrefixKeyValues([.. rows.Select(r => (Ops.Repeat(r.Keys, Batch), Ops.Repeat(r.Values, Batch)))]);

    private static void AssertSame(float[] expected, float[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-6f * (1 + Math.Abs(expected[i])), $"{what} [{i}]");
    }

    [TestMethod]
    [DataRow("gpt2"), DataRow("llama"), DataRow("t5")]
    public void ASharedRowGivesTheLossAndGradientsOfItsRepeatedRows(string family)
    {
        var ids = IntTensor.FromArray([5, 9, 13, 2, 44, 7, 8, 21, 3, 60, 11, 4], Batch, 4);
        (float Loss, float[][] Grads) Run(bool shared)
        {
            float loss;
            (Tensor Keys, Tensor Values)[] rows;
            using (new TensorScope())
            {
                if (family == "t5")
                {
                    var model = ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base"));
                    rows = Rows(model.DecoderCacheLayoutFor(1), 5);
                    var output = model.Forward(inputIds: ids, labels: IntTensor.FromArray([4, 6, 1, 9, 12, 1], Batch, 2), decoderPrefix: Prefix(rows, shared));
                    loss = output.Loss!.Item();
                    output.Loss.Backward();
                }
                else
                {
                    var model = ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base"));
                    rows = Rows(model.CacheLayoutFor(1), 5);
                    var mask = IntTensor.FromArray([.. Enumerable.Repeat(1, Batch * (Virtual + 4))], Batch, Virtual + 4);
                    var output = model.Forward(inputIds: ids, attentionMask: mask, prefix: Prefix(rows, shared), labels: ids);
                    loss = output.Loss!.Item();
                    output.Loss.Backward();
                }
            }
            return (loss, [.. rows.SelectMany(r => new[] { r.Keys.Grad!.ToArray(), r.Values.Grad!.ToArray() })]);
        }
        var repeated = Run(shared: false);
        var shared = Run(shared: true);
        Assert.AreEqual(repeated.Loss, shared.Loss, 1e-6f);
        for (int i = 0; i < repeated.Grads.Length; i++)
        {
            Assert.IsTrue(repeated.Grads[i].Any(g => g != 0), $"prefix tensor {i} gets a gradient");
            AssertSame(repeated.Grads[i], shared.Grads[i], $"gradient of prefix tensor {i}");
        }
    }

    [TestMethod]
    public void ASharedRowFillsAnEmptyCacheAsItsRepeatedRowsDo()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var rows = Rows(model.CacheLayoutFor(1), 6);
        var ids = IntTensor.FromArray([5, 9, 13, 2, 44, 7, 8, 21, 3], Batch, 3);
        float[] Logits(bool shared, out float[] cachedKeys)
        {
            using var scope = new TensorScope();
            using var noGrad = Autograd.NoGrad();
            var cache = new DynamicCache(model.CacheLayoutFor(Batch));
            var logits = model.Forward(inputIds: ids, prefix: Prefix(rows, shared), cache: cache).Logits.ToArray();
            Assert.AreEqual(Virtual, cache.PrefixLength);
            cachedKeys = [.. Enumerable.Range(0, Batch).SelectMany(b => cache.KeyBlock(1, b, 0).ToArray())];
            return logits;
        }
        var repeated = Logits(shared: false, out var repeatedKeys);
        var shared = Logits(shared: true, out var sharedKeys);
        AssertSame(repeated, shared, "logits");
        CollectionAssert.AreEqual(repeatedKeys, sharedKeys, "layer 1's cached keys, every row");
    }

    [TestMethod]
    public void TheIndexerGivesTheBatchsRowsAndSourceTheSharedOne()
    {
        var layout = new CacheLayout(Layers: 2, BatchSize: 1, KeyValueHeads: 2, HeadDim: 3);
        var rows = Rows(layout, 7);
        var prefix = new PrefixKeyValues(rows, Batch);
        Assert.IsTrue(prefix.IsShared);
        Assert.AreEqual(Batch, prefix.Layout.BatchSize);
        Assert.AreEqual(Virtual, prefix.Length);
        Assert.AreSame(rows[1].Keys, prefix.Source(1).Keys);
        var keys = prefix[1].Keys;
        Assert.AreEqual(new Shape(Batch, 2, Virtual, 3), keys.Shape);
        for (int b = 0; b < Batch; b++)
            CollectionAssert.AreEqual(rows[1].Keys.ToArray(), keys.Span.Slice(b * rows[1].Keys.Length, rows[1].Keys.Length).ToArray(), $"row {b}");
        Assert.IsFalse(new PrefixKeyValues(rows, 1).IsShared, "a batch of one is not shared");
        Assert.IsFalse(new PrefixKeyValues(rows).IsShared);
    }

    [TestMethod]
    public void ABatchThatIsNeitherTheBatchNorOneIsRejected()
    {
        var layout = new CacheLayout(Layers: 1, BatchSize: 2, KeyValueHeads: 2, HeadDim: 3);
        var two = new[] { (Tensor.Zeros(new Shape(2, 2, Virtual, 3)), Tensor.Zeros(new Shape(2, 2, Virtual, 3))) };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new PrefixKeyValues(two, Batch)).Message, "needs 3 rows or one shared row");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PrefixKeyValues(Rows(layout, 8), 0));
    }
}
