using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class LstmAndDropoutTests
{
    private static LstmWeights RandomWeights(int seed, int input, int hidden) => new(
        GradientCheck.Random(seed, -0.5f, 0.5f, 4 * hidden, input),
        GradientCheck.Random(seed + 1, -0.5f, 0.5f, 4 * hidden, hidden),
        GradientCheck.Random(seed + 2, -0.5f, 0.5f, 4 * hidden),
        GradientCheck.Random(seed + 3, -0.5f, 0.5f, 4 * hidden));

    // Naive double-precision LSTM for one direction.
    private static double[,,] ReferenceDirection(double[,,] x, LstmWeights w, bool reverse)
    {
        int b = x.GetLength(0), t = x.GetLength(1), n = x.GetLength(2), h = w.HiddenSize;
        var wi = w.WeightInputHidden; var wh = w.WeightHiddenHidden;
        var result = new double[b, t, h];
        for (int bi = 0; bi < b; bi++)
        {
            var hs = new double[h]; var cs = new double[h];
            for (int s = 0; s < t; s++)
            {
                int ti = reverse ? t - 1 - s : s;
                var gates = new double[4 * h];
                for (int r = 0; r < 4 * h; r++)
                {
                    double sum = w.BiasInputHidden!.Span[r] + w.BiasHiddenHidden!.Span[r];
                    for (int c = 0; c < n; c++) sum += wi.GetAt(r, c) * x[bi, ti, c];
                    for (int c = 0; c < h; c++) sum += wh.GetAt(r, c) * hs[c];
                    gates[r] = sum;
                }
                for (int j = 0; j < h; j++)
                {
                    double i = 1 / (1 + Math.Exp(-gates[j])), f = 1 / (1 + Math.Exp(-gates[h + j]));
                    double g = Math.Tanh(gates[2 * h + j]), o = 1 / (1 + Math.Exp(-gates[3 * h + j]));
                    cs[j] = f * cs[j] + i * g;
                    hs[j] = o * Math.Tanh(cs[j]);
                    result[bi, ti, j] = hs[j];
                }
            }
        }
        return result;
    }

    [TestMethod]
    public void TwoLayerBidirectionalMatchesNaiveReference()
    {
        int b = 2, t = 4, n = 3, h = 5;
        var x = GradientCheck.Random(1, -1f, 1f, b, t, n);
        var weights = new[] { RandomWeights(10, n, h), RandomWeights(20, n, h), RandomWeights(30, 2 * h, h), RandomWeights(40, 2 * h, h) };
        var y = Ops.Lstm(x, weights, bidirectional: true);
        Assert.AreEqual(new Shape(b, t, 2 * h), y.Shape);

        var layerInput = new double[b, t, n];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) for (int k = 0; k < n; k++) layerInput[i, j, k] = x.GetAt(i, j, k);
        for (int layer = 0; layer < 2; layer++)
        {
            var fwd = ReferenceDirection(layerInput, weights[2 * layer], false);
            var bwd = ReferenceDirection(layerInput, weights[2 * layer + 1], true);
            layerInput = new double[b, t, 2 * h];
            for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) for (int k = 0; k < h; k++)
            {
                layerInput[i, j, k] = fwd[i, j, k];
                layerInput[i, j, h + k] = bwd[i, j, k];
            }
        }
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) for (int k = 0; k < 2 * h; k++)
            Assert.AreEqual(layerInput[i, j, k], y.GetAt(i, j, k), 2e-6, $"[{i},{j},{k}]");
    }

    [TestMethod]
    public void GradientsReachInputAndEveryWeight()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 1, 3, 2);
        var fwd = RandomWeights(10, 2, 3);
        var bwd = RandomWeights(20, 2, 3);
        GradientCheck.Check(t => Ops.Lstm(t[0], [new LstmWeights(t[1], t[2], t[3], t[4]), new LstmWeights(t[5], t[6], t[7], t[8])], true),
            [x, fwd.WeightInputHidden, fwd.WeightHiddenHidden, fwd.BiasInputHidden!, fwd.BiasHiddenHidden!,
                bwd.WeightInputHidden, bwd.WeightHiddenHidden, bwd.BiasInputHidden!, bwd.BiasHiddenHidden!]);
    }

    [TestMethod]
    public void WrongWeightShapesAreNamed()
    {
        var x = Tensor.Zeros(new Shape(1, 2, 3));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.Lstm(x, [RandomWeights(1, 4, 2)], false));
        StringAssert.Contains(ex.Message, "layer 0: weight_ih [8, 4] must be [8, 3]");
        Assert.ThrowsExactly<ArgumentException>(() => Ops.Lstm(x, [RandomWeights(1, 3, 2)], true));
    }

    [TestMethod]
    public void DropoutIsReproducibleScaledAndIdentityWhenOff()
    {
        var x = Tensor.Ones(new Shape(10_000));
        var a = Ops.Dropout(x, 0.25f, new SeededRandom(5)).ToArray();
        var b = Ops.Dropout(x, 0.25f, new SeededRandom(5)).ToArray();
        CollectionAssert.AreEqual(a, b);
        Assert.IsTrue(a.All(v => v == 0f || Math.Abs(v - 4f / 3f) < 1e-6));
        double zeroFraction = a.Count(v => v == 0f) / (double)a.Length;
        Assert.AreEqual(0.25, zeroFraction, 0.02);
        Assert.AreEqual(1.0, a.Average(v => (double)v), 0.03);
        Assert.AreSame(x, Ops.Dropout(x, 0f, new SeededRandom(1)));
        Assert.AreSame(x, Ops.Dropout(x, 0.5f, new SeededRandom(1), training: false));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ops.Dropout(x, 1f, new SeededRandom(1)));
    }

    [TestMethod]
    public void DropoutGradientUsesTheSameMask()
    {
        var x = GradientCheck.Random(1, -1f, 1f, 4, 5);
        // A fresh generator with the same seed per call keeps the mask fixed across probes.
        GradientCheck.Check(t => Ops.Dropout(t[0], 0.3f, new SeededRandom(9)), [x]);
    }
}
