using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

/// <summary>
/// Attention with prefix rows given apart from the keys (prefix tuning) is attention over their concatenation: the same
/// output and the same gradients for queries, keys, values and the prefix, whether the prefix is one row shared by the
/// batch or a row per batch entry, with grouped-query heads, GPT-2's replaced future scores and a padding mask.
/// </summary>
[TestClass]
public sealed class AttentionPrefixTests
{
    private const int Batch = 3, QueryHeads = 4, KeyHeads = 2, Length = 70, PrefixLength = 5, HeadDim = 8, ValueDim = 6;

    private sealed record Inputs(Tensor Q, Tensor K, Tensor V, Tensor PrefixK, Tensor PrefixV, Tensor Mask, Tensor Upstream);

    private static Inputs Make(int prefixBatch, bool keysNeedGrad, bool prefixNeedsGrad)
    {
        var q = GradientCheck.Random(1, -1f, 1f, Batch, QueryHeads, Length, HeadDim);
        var k = GradientCheck.Random(2, -1f, 1f, Batch, KeyHeads, Length, HeadDim);
        var v = GradientCheck.Random(3, -1f, 1f, Batch, KeyHeads, Length, ValueDim);
        var pk = GradientCheck.Random(4, -1f, 1f, prefixBatch, KeyHeads, PrefixLength, HeadDim);
        var pv = GradientCheck.Random(5, -1f, 1f, prefixBatch, KeyHeads, PrefixLength, ValueDim);
        q.RequiresGrad = true;
        k.RequiresGrad = v.RequiresGrad = keysNeedGrad;
        pk.RequiresGrad = pv.RequiresGrad = prefixNeedsGrad;
        // Row 1 pads its first two tokens (keys PrefixLength and PrefixLength + 1), as a left-padded batch would.
        int keys = PrefixLength + Length;
        var mask = Tensor.Zeros(new Shape(Batch, 1, Length, keys));
        for (int i = 0; i < Length; i++)
            for (int j = PrefixLength; j < PrefixLength + 2; j++) mask.Span[(Length + i) * keys + j] = float.MinValue;
        var upstream = GradientCheck.Random(6, -1f, 1f, Batch, QueryHeads, Length, ValueDim);
        return new Inputs(q, k, v, pk, pv, mask, upstream);
    }

    private static Tensor Run(Inputs x, bool joined, bool replaceFuture)
    {
        if (!joined)
            return Ops.ScaledDotProductAttention(x.Q, x.K, x.V, x.Mask, null, 0.35f, replaceFuture, prefixKeys: x.PrefixK, prefixValues: x.PrefixV);
        var pk = x.PrefixK.Shape[0] == Batch ? x.PrefixK : Ops.Repeat(x.PrefixK, Batch);
        var pv = x.PrefixV.Shape[0] == Batch ? x.PrefixV : Ops.Repeat(x.PrefixV, Batch);
        return Ops.ScaledDotProductAttention(x.Q, Ops.Concat([pk, x.K], 2), Ops.Concat([pv, x.V], 2), x.Mask, null, 0.35f, replaceFuture);
    }

    private static (float[] Output, float[]?[] Gradients) OutputsAndGradients(int prefixBatch, bool keysNeedGrad, bool prefixNeedsGrad, bool joined,
        bool replaceFuture)
    {
        var x = Make(prefixBatch, keysNeedGrad, prefixNeedsGrad);
        var y = Run(x, joined, replaceFuture);
        Ops.SumAll(Ops.Multiply(y, x.Upstream)).Backward();
        return (y.ToArray(), [x.Q.Grad?.ToArray(), x.K.Grad?.ToArray(), x.V.Grad?.ToArray(), x.PrefixK.Grad?.ToArray(), x.PrefixV.Grad?.ToArray()]);
    }

    [TestMethod]
    [DataRow(1, true, true, true)]
    [DataRow(1, false, true, true)]
    [DataRow(1, true, false, false)]
    [DataRow(Batch, true, true, true)]
    [DataRow(Batch, true, true, false)]
    [DataRow(Batch, false, true, false)]
    public void EqualsAttentionOverTheConcatenation(int prefixBatch, bool keysNeedGrad, bool prefixNeedsGrad, bool replaceFuture)
    {
        var (expected, expectedGradients) = OutputsAndGradients(prefixBatch, keysNeedGrad, prefixNeedsGrad, joined: true, replaceFuture);
        var (actual, actualGradients) = OutputsAndGradients(prefixBatch, keysNeedGrad, prefixNeedsGrad, joined: false, replaceFuture);
        // The same products over the same rows: equal up to the order the gradient's shares are summed in.
        GradientCheck.AssertClose(expected, actual, atol: 1e-6, rtol: 1e-6, what: "output");
        string[] names = ["dQ", "dK", "dV", "dPrefixK", "dPrefixV"];
        for (int i = 0; i < names.Length; i++)
        {
            Assert.AreEqual(expectedGradients[i] is null, actualGradients[i] is null, $"{names[i]}: a gradient on one side only");
            if (expectedGradients[i] is { } e) GradientCheck.AssertClose(e, actualGradients[i]!, atol: 1e-6, rtol: 1e-6, what: names[i]);
        }
        Assert.IsNotNull(actualGradients[0], "dQ");
        if (prefixNeedsGrad) Assert.IsTrue(actualGradients[3]!.Any(g => g != 0f), "the prefix gets a gradient");
    }

    [TestMethod]
    public void WrongPrefixesAreRefusedByName()
    {
        var x = Make(1, true, true);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.ScaledDotProductAttention(x.Q, x.K, x.V, x.Mask, null, 1f, prefixKeys: x.PrefixK)).Message, "go together");
        var wrongHeads = GradientCheck.Random(7, -1f, 1f, 1, KeyHeads + 1, PrefixLength, HeadDim);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.ScaledDotProductAttention(x.Q, x.K, x.V, x.Mask, null, 1f, prefixKeys: wrongHeads, prefixValues: x.PrefixV)).Message, "prefixKeys");
        var wrongLength = GradientCheck.Random(8, -1f, 1f, 1, KeyHeads, PrefixLength + 1, ValueDim);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.ScaledDotProductAttention(x.Q, x.K, x.V, x.Mask, null, 1f, prefixKeys: x.PrefixK, prefixValues: wrongLength)).Message, "prefixValues");
        // The mask must cover prefix + keys.
        var shortMask = Tensor.Zeros(new Shape(Batch, 1, Length, Length));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.ScaledDotProductAttention(x.Q, x.K, x.V, shortMask, null, 1f, prefixKeys: x.PrefixK, prefixValues: x.PrefixV)).Message, "additiveMask");
        using (Autograd.NoGrad())
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
                Ops.ScaledDotProductAttention(x.Q, x.K, x.V, null, null, 1f, validKeys: 10, prefixKeys: x.PrefixK, prefixValues: x.PrefixV)).Message,
                "validKeys");
    }
}
