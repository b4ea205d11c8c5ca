namespace Peft.Tensors.Tests;

[TestClass]
public sealed class AttentionInPlaceTests
{
    [TestMethod]
    public void AttendingTheValidRowsOfAStorageInPlaceEqualsAttendingACopy()
    {
        var random = new SeededRandom(2);
        int b = 2, hq = 4, hkv = 2, tq = 3, capacity = 7, valid = 5, d = 8;
        var q = TensorInit.Normal(new Shape(b, hq, tq, d), 0, 1, random);
        var storageK = TensorInit.Normal(new Shape(b, hkv, capacity, d), 0, 1, random);
        var storageV = TensorInit.Normal(new Shape(b, hkv, capacity, d), 0, 1, random);
        var k = Tensor.Zeros(new Shape(b, hkv, valid, d));
        var v = Tensor.Zeros(new Shape(b, hkv, valid, d));
        for (int block = 0; block < b * hkv; block++)
        {
            storageK.Span.Slice(block * capacity * d, valid * d).CopyTo(k.Span.Slice(block * valid * d));
            storageV.Span.Slice(block * capacity * d, valid * d).CopyTo(v.Span.Slice(block * valid * d));
        }
        var mask = Tensor.Zeros(new Shape(b, 1, tq, valid));
        mask.Span[3] = float.MinValue;
        using (Autograd.NoGrad())
        {
            var copied = Ops.ScaledDotProductAttention(q, k, v, mask, null, 0.3f, replaceFutureScores: true).ToArray();
            var inPlace = Ops.ScaledDotProductAttention(q, storageK, storageV, mask, null, 0.3f, replaceFutureScores: true, validKeys: valid).ToArray();
            CollectionAssert.AreEqual(copied, inPlace);
        }
        q.RequiresGrad = true;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => Ops.ScaledDotProductAttention(q, storageK, storageV, mask, null, 0.3f, validKeys: valid)).Message, "inference");
        Assert.ThrowsExactly<ArgumentException>(() => Ops.ScaledDotProductAttention(q, storageK, storageV, null, null, 0.3f, validKeys: capacity + 1));
    }
}
