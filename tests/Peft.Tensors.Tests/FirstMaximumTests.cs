namespace Peft.Tensors.Tests;

/// <summary>Greedy decoding's argmax (<see cref="FirstMaximum"/>): the first maximum, as torch.argmax picks it, at every length and position.</summary>
[TestClass]
public sealed class FirstMaximumTests
{
    /// <summary>torch.argmax's rule written out: the first NaN if any, else the first index whose value no other exceeds.</summary>
    private static int Reference(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (float.IsNaN(values[i])) return i;
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    [TestMethod]
    public void RandomRowsOfEveryLengthAroundTheVectorWidths()
    {
        var random = new Random(3);
        foreach (int length in new[] { 1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 50257 })
            for (int trial = 0; trial < 20; trial++)
            {
                // Few distinct values, so ties between vector lanes and across vectors are common.
                var values = Enumerable.Range(0, length).Select(_ => (float)random.Next(-5, 6)).ToArray();
                Assert.AreEqual(Reference(values), FirstMaximum.IndexOf(values), $"length {length}, trial {trial}");
            }
    }

    [TestMethod]
    public void TheMaximumAtEachPositionOfTheVectorBodyAndTail()
    {
        for (int length = 1; length <= 70; length++)
            for (int at = 0; at < length; at++)
            {
                var values = Enumerable.Repeat(-1f, length).ToArray();
                values[at] = 2f;
                Assert.AreEqual(at, FirstMaximum.IndexOf(values), $"length {length}, maximum at {at}");
            }
    }

    [TestMethod]
    public void TiesGiveTheFirstAndSignedZerosAreOneValue()
    {
        Assert.AreEqual(3, FirstMaximum.IndexOf([1f, 2f, 2.5f, 3f, 3f, 0f, 3f]));
        // −0 == +0: the first zero is the first maximum whichever its sign (torch compares values, not bits).
        var zeros = Enumerable.Repeat(-1f, 40).ToArray();
        zeros[5] = -0f;
        zeros[30] = 0f;
        Assert.AreEqual(5, FirstMaximum.IndexOf(zeros));
        Assert.AreEqual(0, FirstMaximum.IndexOf([float.NegativeInfinity, float.NegativeInfinity]));
        Assert.AreEqual(1, FirstMaximum.IndexOf([float.MinValue, float.PositiveInfinity, float.PositiveInfinity]));
    }

    [TestMethod]
    public void ANaNIsTheMaximumAsInTorch()
    {
        var values = Enumerable.Range(0, 50).Select(i => (float)i).ToArray();
        values[20] = float.NaN;
        values[40] = float.NaN;
        Assert.AreEqual(20, FirstMaximum.IndexOf(values));
        Assert.ThrowsExactly<ArgumentException>(() => FirstMaximum.IndexOf([]));
    }

    [TestMethod]
    public void EachRowGetsItsOwnFirstMaximum()
    {
        // Three rows of 5: maxima at 3, a tie resolved to the first (1), and a NaN (the first NaN, 4).
        float[] values = [0f, 1f, 2f, 9f, 3f, 5f, 7f, 7f, 1f, 0f, 1f, 2f, 3f, 4f, float.NaN];
        var indices = new int[3];
        FirstMaximum.IndexOfEachRow(values, 5, indices);
        CollectionAssert.AreEqual(new[] { 3, 1, 4 }, indices);
        Assert.ThrowsExactly<ArgumentException>(() => FirstMaximum.IndexOfEachRow(values, 6, new int[3]));
        Assert.ThrowsExactly<ArgumentException>(() => FirstMaximum.IndexOfEachRow(values, 0, new int[1]));
    }
}
