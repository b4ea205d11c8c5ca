namespace Peft.Tensors.Tests;

[TestClass]
public sealed class TensorScopeTests
{
    [TestMethod]
    public void TensorsCreatedInScopeAreReleasedAndThrowAfterward()
    {
        Tensor inside;
        Tensor kept;
        using (new TensorScope())
        {
            inside = Tensor.Ones(new Shape(4));
            kept = TensorScope.Keep(Ops.Scale(inside, 3f));
            Assert.IsTrue(inside.IsPooled);
        }
        Assert.ThrowsExactly<ObjectDisposedException>(() => inside.ToArray());
        CollectionAssert.AreEqual(new float[] { 3, 3, 3, 3 }, kept.ToArray());
    }

    [TestMethod]
    public void ReshapedViewOfReleasedTensorAlsoThrows()
    {
        Tensor view;
        using (new TensorScope())
        {
            var t = Tensor.Ones(new Shape(2, 2));
            view = Ops.Reshape(t, 4);
        }
        Assert.ThrowsExactly<ObjectDisposedException>(() => view.ToArray());
    }

    [TestMethod]
    public void ParametersGetPersistentGradientsInsideScopes()
    {
        var w = Tensor.Parameter([1f, 2f], new Shape(2));
        using (new TensorScope())
        {
            var y = Ops.Scale(w, 2f);
            y.Backward(Tensor.Ones(y.Shape));
        }
        CollectionAssert.AreEqual(new float[] { 2, 2 }, w.Grad!.ToArray());
    }
}
