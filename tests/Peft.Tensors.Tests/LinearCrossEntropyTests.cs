namespace Peft.Tensors.Tests;

[TestClass]
public sealed class LinearCrossEntropyTests
{
    [TestMethod]
    [DataRow(3, true)]
    [DataRow(64, true)]
    [DataRow(3, false)]
    [DataRow(64, false)]
    public void ChunkedHeadLossEqualsCrossEntropyOfTheFullLogitsWithGradients(int chunkRows, bool weightTrains)
    {
        float[] Run(bool fused, out float[] gh, out float[] gw)
        {
            var r = new SeededRandom(4);
            var hidden = TensorInit.Normal(new Shape(7, 5), 0, 1, r);
            var weight = TensorInit.Normal(new Shape(11, 5), 0, 1, r);
            hidden.RequiresGrad = true;
            // A frozen weight takes the path that makes the hidden gradient in forward.
            weight.RequiresGrad = weightTrains;
            var targets = IntTensor.FromArray([3, -100, 10, 0, 7, -100, 2], 7);
            float loss;
            using (new TensorScope())
            {
                var l = fused ? Ops.LinearCrossEntropy(hidden, weight, targets, -100, chunkRows) : Ops.CrossEntropy(Ops.Linear(hidden, weight), targets);
                loss = l.Item();
                Ops.Scale(l, 2.5f).Backward();
            }
            gh = hidden.Grad!.ToArray();
            gw = weight.Grad?.ToArray() ?? [];
            return [loss];
        }
        var expected = Run(false, out var eh, out var ew);
        var actual = Run(true, out var ah, out var aw);
        Assert.HasCount(ew.Length, aw);
        Assert.AreEqual(expected[0], actual[0], 1e-5f);
        for (int i = 0; i < eh.Length; i++) Assert.AreEqual(eh[i], ah[i], 1e-5f, $"hidden grad {i}");
        for (int i = 0; i < ew.Length; i++) Assert.AreEqual(ew[i], aw[i], 1e-5f, $"weight grad {i}");
    }

    [TestMethod]
    public void BadShapesAreRejected()
    {
        var h = Tensor.Zeros(new Shape(2, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.LinearCrossEntropy(h, Tensor.Zeros(new Shape(4, 2)), IntTensor.FromArray([0, 1], 2))).Message, "LinearCrossEntropy");
        Assert.ThrowsExactly<ArgumentException>(() => Ops.LinearCrossEntropy(h, Tensor.Zeros(new Shape(4, 3)), IntTensor.FromArray([0, 1, 2], 3)));
    }
}
