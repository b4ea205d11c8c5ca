using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class ShapeOpsTests
{
    [TestMethod]
    public void ConcatSliceAndPermuteValues()
    {
        var a = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var b = Tensor.FromArray([5, 6], 2, 1);
        CollectionAssert.AreEqual(new float[] { 1, 2, 5, 3, 4, 6 }, Ops.Concat([a, b], 1).ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 1, 2, 3, 4 }, Ops.Concat([a, a], 0).ToArray());
        CollectionAssert.AreEqual(new float[] { 2, 4 }, Ops.Slice(a, 1, 1, 1).ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 3, 2, 4 }, Ops.Transpose(a, 0, 1).ToArray());
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var p = Ops.Permute(x, 2, 0, 1);
        Assert.AreEqual(new Shape(4, 2, 3), p.Shape);
        Assert.AreEqual(x.GetAt(1, 2, 3), p.GetAt(3, 1, 2));
        Assert.AreEqual(x.GetAt(0, 1, 2), p.GetAt(2, 0, 1));
    }

    [TestMethod]
    public void Gradients()
    {
        var a = GradientCheck.Random(1, -1f, 1f, 2, 3, 4);
        var b = GradientCheck.Random(2, -1f, 1f, 2, 2, 4);
        GradientCheck.Check(t => Ops.Concat([t[0], t[1], t[0]], 1), [a, b]);
        GradientCheck.Check(t => Ops.Slice(t[0], 2, 1, 2), [a]);
        GradientCheck.Check(t => Ops.Permute(t[0], 1, 2, 0), [a]);
        GradientCheck.Check(t => Ops.Permute(t[0], 0, 2, 1), [a]);
        var four = GradientCheck.Random(3, -1f, 1f, 2, 3, 2, 4);
        GradientCheck.Check(t => Ops.Permute(t[0], 0, 2, 1, 3), [four]);
    }

    [TestMethod]
    public void SplitAndMergeHeadsEqualSliceReshapePermuteWithGradients()
    {
        // [batch 2, length 3, width 10]: heads 2 × headDim 3 taken from column 4.
        var x = GradientCheck.Random(4, -1f, 1f, 2, 3, 10);
        var split = Ops.SplitHeads(x, 4, 2, 3);
        var reference = Ops.Permute(Ops.Reshape(Ops.Slice(x, 2, 4, 6), 2, 3, 2, 3), 0, 2, 1, 3);
        Assert.AreEqual(reference.Shape, split.Shape);
        CollectionAssert.AreEqual(reference.ToArray(), split.ToArray());
        var merged = Ops.MergeHeads(split);
        CollectionAssert.AreEqual(Ops.Slice(x, 2, 4, 6).ToArray(), merged.ToArray());
        GradientCheck.Check(t => Ops.SplitHeads(t[0], 4, 2, 3), [x]);
        GradientCheck.Check(t => Ops.MergeHeads(t[0]), [GradientCheck.Random(5, -1f, 1f, 2, 2, 3, 3)]);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.SplitHeads(x, 6, 2, 3)).Message, "SplitHeads");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.MergeHeads(x)).Message, "MergeHeads");
    }

    [TestMethod]
    public void LargeSplitAndMergeHeadsEqualSliceReshapePermute()
    {
        // [3, 100, 2304] with 12 heads of 64 from column 768: 230 400 values copied, the 36 (batch row, head) pairs split
        // between the workers (18 each).
        var x = GradientCheck.Random(8, -1f, 1f, 3, 100, 2304);
        var split = Ops.SplitHeads(x, 768, 12, 64);
        var slice = Ops.Slice(x, 2, 768, 768);
        var reference = Ops.Permute(Ops.Reshape(slice, 3, 100, 12, 64), 0, 2, 1, 3);
        CollectionAssert.AreEqual(reference.ToArray(), split.ToArray());
        CollectionAssert.AreEqual(slice.ToArray(), Ops.MergeHeads(split).ToArray());
    }

    [TestMethod]
    public void RepeatCopiesAlongAxisZeroAndSumsGradients()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 1, 2, 3);
        var y = Ops.Repeat(x, 3);
        Assert.AreEqual(new Shape(3, 2, 3), y.Shape);
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6 }, y.ToArray());
        Assert.AreSame(x, Ops.Repeat(x, 1));
        GradientCheck.Check(t => Ops.Repeat(t[0], 3), [GradientCheck.Random(6, -1f, 1f, 2, 3)]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ops.Repeat(x, 0));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.Repeat(Tensor.Scalar(1f), 2)).Message, "Repeat");
    }

    [TestMethod]
    public void BadArgumentsAreNamed()
    {
        var a = Tensor.Zeros(new Shape(2, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => Ops.Concat([a, Tensor.Zeros(new Shape(3, 3))], 1)).Message, "differ outside axis 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.Slice(a, 1, 2, 2)).Message, "outside axis 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.Permute(a, 0, 0)).Message, "appears twice");
    }

    [TestMethod]
    public void EmbeddingValuesGradientAndRangeCheck()
    {
        var table = GradientCheck.Random(1, -1f, 1f, 5, 3);
        var ids = IntTensor.FromArray([4, 0, 4], 3);
        var y = Ops.Embedding(ids, table);
        CollectionAssert.AreEqual(table.ToArray()[12..15], y.ToArray()[0..3]);
        GradientCheck.Check(t => Ops.Embedding(ids, t[0]), [table]);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ops.Embedding(IntTensor.FromArray([1, 5], 2), table));
        StringAssert.Contains(ex.Message, "element 1 is 5");
    }
}
