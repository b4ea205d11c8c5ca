using Peft.Tensors;
using Peft.Transformers.Masking;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class MaskingTests
{
    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void PositionsFromMaskMatchGenerate(string caseName)
    {
        using var expected = SafeTensorsFile.Open(Fixtures.Hf(caseName, "expected.safetensors"));
        var maskInfo = expected.GetInfo("input.attention_mask");
        var mask = IntTensor.FromArray(expected.ReadInt32("input.attention_mask"), maskInfo.Shape);
        var positions = PositionIds.FromAttentionMask(mask, maskInfo.Shape[1]);
        CollectionAssert.AreEqual(expected.ReadInt32("input.position_ids_from_mask"), positions.ToArray());
    }

    [TestMethod]
    public void CausalMaskWithPrefixOffsetAndPadding()
    {
        // One row, 2 queries after 2 earlier keys; key 0 is padding.
        var keyMask = IntTensor.FromArray([0, 1, 1, 1], 1, 4);
        var llama = AttentionMasks.Causal(1, 2, 4, keyMask, MaskStyle.MinValue).ToArray();
        float m = float.MinValue;
        CollectionAssert.AreEqual(new[] { m, 0, 0, m, m, 0, 0, 0 }, llama);
        // GPT-2's mask holds only padding; attention replaces future scores itself.
        var gpt2 = AttentionMasks.Causal(1, 2, 4, keyMask, MaskStyle.Gpt2).ToArray();
        CollectionAssert.AreEqual(new[] { m, 0, 0, 0, m, 0, 0, 0 }, gpt2);
    }

    [TestMethod]
    public void SlidingWindowHidesDistantKeys()
    {
        var mask = AttentionMasks.Causal(1, 3, 3, null, MaskStyle.MinValue, slidingWindow: 2).ToArray();
        float m = float.MinValue;
        CollectionAssert.AreEqual(new[] { 0, m, m, 0, 0, m, m, 0, 0 }, mask);
    }

    [TestMethod]
    public void BadMasksAreRejected()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => AttentionMasks.Causal(2, 1, 3, IntTensor.FromArray([1, 1, 1], 1, 3), MaskStyle.MinValue));
        StringAssert.Contains(ex.Message, "[batch 2, keys 3]");
        Assert.ThrowsExactly<ArgumentException>(() => AttentionMasks.Padding(1, 1, IntTensor.FromArray([1, 2], 1, 2)));
    }
}
