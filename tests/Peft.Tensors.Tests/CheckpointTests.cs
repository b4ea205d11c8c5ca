namespace Peft.Tensors.Tests;

[TestClass]
public sealed class CheckpointTests
{
    private static (float[] Input, float[] W, float[] Side) Run(bool checkpoint, ulong dropoutSeed)
    {
        var random = new SeededRandom(1);
        var w = TensorInit.Normal(new Shape(6, 6), 0, 0.5f, random);
        w.RequiresGrad = true;
        var sideLeaf = TensorInit.Normal(new Shape(6), 0, 1, random);
        sideLeaf.RequiresGrad = true;
        var x = TensorInit.Normal(new Shape(3, 6), 0, 1, random);
        x.RequiresGrad = true;
        var dropout = new SeededRandom(dropoutSeed);
        using (new TensorScope())
        {
            // The side input is computed (non-leaf), as a prefix is.
            var side = Ops.Tanh(sideLeaf);
            var h = Ops.Scale(x, 1.5f);
            Tensor Layer(Tensor t) => Ops.Add(Ops.Gelu(Ops.Dropout(Ops.Linear(t, w), 0.3f, dropout)), side);
            var y = checkpoint ? Ops.Checkpoint(Layer, h, [side]) : Layer(h);
            y = checkpoint ? Ops.Checkpoint(Layer, y, [side]) : Layer(y);
            Ops.SumAll(Ops.Multiply(y, y)).Backward();
        }
        return (x.Grad!.ToArray(), w.Grad!.ToArray(), sideLeaf.Grad!.ToArray());
    }

    [TestMethod]
    public void CheckpointedLayersGiveTheSameGradientsIncludingDropoutAndSideInputs()
    {
        var plain = Run(false, 9);
        var checkpointed = Run(true, 9);
        CollectionAssert.AreEqual(plain.Input, checkpointed.Input);
        CollectionAssert.AreEqual(plain.W, checkpointed.W);
        CollectionAssert.AreEqual(plain.Side, checkpointed.Side);
    }

    [TestMethod]
    public void UnderNoGradACheckpointIsAPlainCallAndAShapeChangeIsRejected()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 1, 3);
        x.RequiresGrad = true;
        using (Autograd.NoGrad())
            Assert.IsFalse(Ops.Checkpoint(t => Ops.Scale(t, 2f), x).RequiresGrad);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Ops.Checkpoint(t => Ops.Reshape(t, 3, 1), x)).Message, "shape");
    }
}
