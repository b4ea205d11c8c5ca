using Peft.Tensors;
using Peft.Transformers.Caching;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class CacheTests
{
    private static readonly CacheLayout Layout = new(Layers: 2, BatchSize: 2, KeyValueHeads: 3, HeadDim: 4);

    // Values encode (row, head, position, dim) so any misplacement is visible.
    private static Tensor Block(int length, int positionOffset, float sign = 1f)
    {
        var v = new float[2 * 3 * length * 4];
        int i = 0;
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 3; h++)
                for (int t = 0; t < length; t++)
                    for (int d = 0; d < 4; d++)
                        v[i++] = sign * (b * 1000 + h * 100 + (t + positionOffset) * 10 + d);
        return Tensor.FromArray(v, 2, 3, length, 4);
    }

    [TestMethod]
    public void DynamicCacheGrowsAndKeepsContentsInOrder()
    {
        var cache = new DynamicCache(Layout, initialCapacity: 2);
        cache.Append(0, Block(3, 0), Block(3, 0, -1));
        cache.Append(0, Block(1, 3), Block(1, 3, -1));
        cache.Append(0, Block(2, 4), Block(2, 4, -1));
        Assert.AreEqual(6, cache.GetLength(0));
        Assert.AreEqual(0, cache.GetLength(1));
        Assert.IsGreaterThanOrEqualTo(6, cache.GetCapacity(0));
        var layers = cache.ToLayerList();
        CollectionAssert.AreEqual(Block(6, 0).ToArray(), layers[0].Keys.ToArray());
        CollectionAssert.AreEqual(Block(6, 0, -1).ToArray(), layers[0].Values.ToArray());
        CollectionAssert.AreEqual(Block(6, 0).ToArray().AsSpan(4 * 6 * 4, 6 * 4).ToArray(), cache.KeyBlock(0, 1, 1).ToArray());
    }

    [TestMethod]
    public void StaticCacheFailsClearlyWhenFull()
    {
        var cache = new StaticCache(Layout, maxLength: 4);
        cache.Append(1, Block(3, 0), Block(3, 0));
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => cache.Append(1, Block(2, 3), Block(2, 3)));
        StringAssert.Contains(ex.Message, "holds 4 positions and 5 are needed");
        Assert.AreEqual(3, cache.GetLength(1));
    }

    [TestMethod]
    public void PrefixIsTrackedAndProtectedFromCrop()
    {
        var cache = new DynamicCache(Layout);
        cache.AppendPrefix([(Block(2, 0), Block(2, 0)), (Block(2, 0), Block(2, 0))]);
        Assert.AreEqual(2, cache.PrefixLength);
        Assert.AreEqual(0, cache.RealTokenLength);
        cache.Append(0, Block(5, 2), Block(5, 2));
        cache.Append(1, Block(5, 2), Block(5, 2));
        Assert.AreEqual(5, cache.RealTokenLength);
        cache.Crop(4);
        Assert.AreEqual(2, cache.RealTokenLength);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => cache.Crop(1));
        Assert.ThrowsExactly<InvalidOperationException>(() => cache.AppendPrefix([(Block(1, 0), Block(1, 0)), (Block(1, 0), Block(1, 0))]));
    }

    [TestMethod]
    public void BadPrefixLeavesTheCacheUnchanged()
    {
        var cache = new DynamicCache(Layout);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => cache.AppendPrefix([(Block(2, 0), Block(2, 0)), (Block(3, 0), Block(3, 0))]));
        StringAssert.Contains(ex.Message, "layer 1");
        Assert.AreEqual(0, cache.GetLength(0));
        Assert.AreEqual(0, cache.PrefixLength);
    }

    [TestMethod]
    public void ReorderPermutesBatchRows()
    {
        var cache = new DynamicCache(Layout);
        cache.Append(0, Block(2, 0), Block(2, 0));
        cache.Reorder([1, 1]);
        CollectionAssert.AreEqual(cache.KeyBlock(0, 0, 2).ToArray(), cache.KeyBlock(0, 1, 2).ToArray());
        Assert.AreEqual(1200f, cache.KeyBlock(0, 0, 2)[0]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => cache.Reorder([0, 2]));
        Assert.ThrowsExactly<ArgumentException>(() => cache.Reorder([0]));
    }

    [TestMethod]
    public void LayerListRoundTripKeepsPrefixLength()
    {
        var cache = new DynamicCache(Layout);
        cache.AppendPrefix([(Block(1, 0), Block(1, 0)), (Block(1, 0), Block(1, 0))]);
        cache.Append(0, Block(2, 1), Block(2, 1));
        cache.Append(1, Block(2, 1), Block(2, 1));
        var copy = DynamicCache.FromLayerList(cache.ToLayerList(), cache.PrefixLength);
        Assert.AreEqual(1, copy.PrefixLength);
        Assert.AreEqual(Layout, copy.Layout);
        CollectionAssert.AreEqual(cache.ToLayerList()[1].Values.ToArray(), copy.ToLayerList()[1].Values.ToArray());
    }

    [TestMethod]
    public void WrongShapesAndLayoutsAreNamed()
    {
        var cache = new DynamicCache(Layout);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => cache.Append(0, Tensor.Zeros(new Shape(2, 2, 1, 4)), Tensor.Zeros(new Shape(2, 2, 1, 4))));
        StringAssert.Contains(ex.Message, "kv heads 3");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => cache.Append(2, Block(1, 0), Block(1, 0)));
        var mismatch = Assert.ThrowsExactly<ArgumentException>(() => new CacheLayout(2, 2, 4, 4).CheckMatches(Layout, "Forward"));
        StringAssert.Contains(mismatch.Message, "the cache has 3 key/value heads but the model needs 4");
    }
}
