using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class AttentionTests
{
    // A direct double-precision transcription of softmax(scale·QKᵀ + mask + bias)·V with GQA.
    private static double[] Reference(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? bias, float scale)
    {
        int b = q.Shape[0], hq = q.Shape[1], tq = q.Shape[2], d = q.Shape[3], hkv = k.Shape[1], tk = k.Shape[2], dv = v.Shape[3];
        var result = new double[b * hq * tq * dv];
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < hq; h++)
            {
                int kh = h / (hq / hkv);
                for (int i = 0; i < tq; i++)
                {
                    var s = new double[tk];
                    for (int j = 0; j < tk; j++)
                    {
                        double dot = 0;
                        for (int x = 0; x < d; x++) dot += q.GetAt(bi, h, i, x) * k.GetAt(bi, kh, j, x);
                        s[j] = scale * dot;
                        if (mask is not null) s[j] += mask.GetAt(mask.Shape[0] == 1 ? 0 : bi, mask.Shape[1] == 1 ? 0 : h, i, j);
                        if (bias is not null) s[j] += bias.GetAt(bias.Shape[0] == 1 ? 0 : bi, h, i, j);
                    }
                    double max = s.Max();
                    var p = s.Select(z => Math.Exp(z - max)).ToArray();
                    double sum = p.Sum();
                    for (int x = 0; x < dv; x++)
                    {
                        double o = 0;
                        for (int j = 0; j < tk; j++) o += p[j] / sum * v.GetAt(bi, kh, j, x);
                        result[((bi * hq + h) * tq + i) * dv + x] = o;
                    }
                }
            }
        return result;
    }

    private static Tensor CausalMask(int b, int tq, int tk)
    {
        var m = Tensor.Zeros(new Shape(b, 1, tq, tk));
        for (int bi = 0; bi < b; bi++)
            for (int i = 0; i < tq; i++)
                for (int j = 0; j < tk; j++)
                    if (j > tk - tq + i || (bi == 1 && j == 0)) m.Span[((bi * tq) + i) * tk + j] = float.MinValue;
        return m;
    }

    [TestMethod]
    public void MatchesReferenceWithGqaMaskPrefixOffsetAndBias()
    {
        var q = GradientCheck.Random(1, -1f, 1f, 2, 4, 3, 5);
        var k = GradientCheck.Random(2, -1f, 1f, 2, 2, 6, 5);
        var v = GradientCheck.Random(3, -1f, 1f, 2, 2, 6, 3);
        var mask = CausalMask(2, 3, 6);
        var bias = GradientCheck.Random(4, -0.5f, 0.5f, 1, 4, 3, 6);
        var y = Ops.ScaledDotProductAttention(q, k, v, mask, bias, 0.4f);
        var expected = Reference(q, k, v, mask, bias, 0.4f);
        GradientCheck.AssertClose(expected.Select(x => (float)x).ToArray(), y.ToArray(), 1e-5, 1e-5, "attention");
    }

    [TestMethod]
    public void FullyMaskedRowAttendsUniformlyLikeHuggingFace()
    {
        var q = Tensor.FromArray([1, 2], 1, 1, 1, 2);
        var k = Tensor.FromArray([1, 0, 0, 1], 1, 1, 2, 2);
        var v = Tensor.FromArray([2, 0, 0, 4], 1, 1, 2, 2);
        var mask = Tensor.Full(new Shape(1, 1, 1, 2), float.MinValue);
        CollectionAssert.AreEqual(new float[] { 1, 2 }, Ops.ScaledDotProductAttention(q, k, v, mask, null, 1f).ToArray());
    }

    [TestMethod]
    public void GradientsForQueriesKeysValuesAndBias()
    {
        var q = GradientCheck.Random(1, -1f, 1f, 2, 4, 3, 4);
        var k = GradientCheck.Random(2, -1f, 1f, 2, 2, 5, 4);
        var v = GradientCheck.Random(3, -1f, 1f, 2, 2, 5, 3);
        var bias = GradientCheck.Random(4, -0.5f, 0.5f, 1, 4, 3, 5);
        var mask = CausalMask(2, 3, 5);
        GradientCheck.Check(t => Ops.ScaledDotProductAttention(t[0], t[1], t[2], mask, t[3], 0.5f), [q, k, v, bias]);
        var perRowBias = GradientCheck.Random(5, -0.5f, 0.5f, 2, 4, 3, 5);
        GradientCheck.Check(t => Ops.ScaledDotProductAttention(t[0], t[1], t[2], null, t[3], 1f), [q, k, v, perRowBias]);
    }

    [TestMethod]
    public void BadShapesAreNamed()
    {
        var q = Tensor.Zeros(new Shape(1, 3, 2, 4));
        var k = Tensor.Zeros(new Shape(1, 2, 2, 4));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Ops.ScaledDotProductAttention(q, k, k, null, null, 1f));
        StringAssert.Contains(ex.Message, "multiple of key/value heads 2");
        var mask = Tensor.Zeros(new Shape(1, 1, 2, 3));
        var q2 = Tensor.Zeros(new Shape(1, 2, 2, 4));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(
            () => Ops.ScaledDotProductAttention(q2, k, k, mask, null, 1f)).Message, "additiveMask [1, 1, 2, 3]");
    }

    [TestMethod]
    public void ReplacedFutureScoresMatchAddedMaskForwardButPassNoGradient()
    {
        var q = GradientCheck.Random(1, -1f, 1f, 1, 2, 3, 4);
        var k = GradientCheck.Random(2, -1f, 1f, 1, 2, 5, 4);
        var v = GradientCheck.Random(3, -1f, 1f, 1, 2, 5, 4);
        var causal = Tensor.Zeros(new Shape(1, 1, 3, 5));
        for (int i = 0; i < 3; i++) for (int j = 2 + i + 1; j < 5; j++) causal.Span[i * 5 + j] = float.MinValue;
        // Equal up to rounding: with replaced scores only each row's visible keys go through the softmax.
        GradientCheck.AssertClose(Ops.ScaledDotProductAttention(q, k, v, causal, null, 0.5f).ToArray(),
            Ops.ScaledDotProductAttention(q, k, v, null, null, 0.5f, replaceFutureScores: true).ToArray(), atol: 1e-6, rtol: 1e-6, what: "replaced vs masked");
        GradientCheck.Check(t => Ops.ScaledDotProductAttention(t[0], t[1], t[2], null, null, 0.5f, replaceFutureScores: true), [q, k, v]);
    }

    [TestMethod]
    public void ReplacedFutureScoresWithLeftPaddingMatchTheFullRowComputation()
    {
        // Keys 0 and 1 are padding: query rows 0 and 1 see only padding, so their softmax runs over the
        // whole row as HF's does (float.MinValue absorbs the score: uniform over every key not at −∞),
        // while rows 2 and 3 only need their visible keys. Output and all three gradients against a
        // scalar float transcription of the full-row computation.
        const int t = 4, d = 3;
        const float scale = 0.7f;
        var q = GradientCheck.Random(11, -1f, 1f, 1, 1, t, d);
        var k = GradientCheck.Random(12, -1f, 1f, 1, 1, t, d);
        var v = GradientCheck.Random(13, -1f, 1f, 1, 1, t, d);
        var upstream = GradientCheck.Random(14, -1f, 1f, 1, 1, t, d);
        var mask = Tensor.Zeros(new Shape(1, 1, t, t));
        for (int i = 0; i < t; i++) for (int j = 0; j < 2; j++) mask.Span[i * t + j] = float.MinValue;
        foreach (var x in new[] { q, k, v }) x.RequiresGrad = true;
        float[] output;
        using (new TensorScope())
        {
            var y = Ops.ScaledDotProductAttention(q, k, v, mask, null, scale, replaceFutureScores: true);
            output = y.ToArray();
            Ops.SumAll(Ops.Multiply(y, upstream)).Backward();
        }

        float[] Q = q.ToArray(), K = k.ToArray(), V = v.ToArray(), dO = upstream.ToArray();
        var p = new float[t * t];
        var expected = new float[t * d];
        var dq = new float[t * d];
        var dk = new float[t * d];
        var dv = new float[t * d];
        for (int i = 0; i < t; i++)
        {
            var s = new float[t];
            for (int j = 0; j < t; j++)
            {
                float dot = 0f;
                for (int c = 0; c < d; c++) dot += Q[i * d + c] * K[j * d + c];
                s[j] = (j > i ? float.MinValue : scale * dot) + mask.Span[i * t + j];
            }
            float max = s.Max();
            float sum = s.Sum(z => MathF.Exp(z - max));
            for (int j = 0; j < t; j++) p[i * t + j] = MathF.Exp(s[j] - max) / sum;
            var dP = new float[t];
            for (int j = 0; j < t; j++)
                for (int c = 0; c < d; c++)
                {
                    expected[i * d + c] += p[i * t + j] * V[j * d + c];
                    dP[j] += dO[i * d + c] * V[j * d + c];
                    dv[j * d + c] += p[i * t + j] * dO[i * d + c];
                }
            float rowDot = 0f;
            for (int j = 0; j < t; j++) rowDot += p[i * t + j] * dP[j];
            for (int j = 0; j <= i; j++)
            {
                float dS = p[i * t + j] * (dP[j] - rowDot);
                for (int c = 0; c < d; c++)
                {
                    dq[i * d + c] += scale * dS * K[j * d + c];
                    dk[j * d + c] += scale * dS * Q[i * d + c];
                }
            }
        }
        Assert.AreEqual(1f / 3f, p[0], 1e-6f, "a padding-only query row is uniform over the keys not at −∞ (0, 2, 3)");
        GradientCheck.AssertClose(expected, output, atol: 1e-5, rtol: 1e-5, what: "output");
        GradientCheck.AssertClose(dq, q.Grad!.ToArray(), atol: 1e-5, rtol: 1e-5, what: "dQ");
        GradientCheck.AssertClose(dk, k.Grad!.ToArray(), atol: 1e-5, rtol: 1e-5, what: "dK");
        GradientCheck.AssertClose(dv, v.Grad!.ToArray(), atol: 1e-5, rtol: 1e-5, what: "dV");
    }

    [TestMethod]
    public void ReplacedFutureScoresOverSeveralQueryBlocksMatchTheFullRowComputation()
    {
        // Long enough for several query blocks (each multiplies only the keys its last row sees), with 20 prefix keys,
        // grouped-query heads, left padding in batch row 1, one query row of batch row 0 whose visible keys are all
        // masked (its block falls back to full rows), and a trainable position bias shared by the batch. Output and
        // every gradient against a scalar float transcription of the full-row computation.
        const int batch = 2, hq = 4, hkv = 2, tq = 150, prefix = 20, tk = tq + prefix, d = 8, fullyMaskedRow = 100;
        const float scale = 0.35f;
        var q = GradientCheck.Random(21, -1f, 1f, batch, hq, tq, d);
        var k = GradientCheck.Random(22, -1f, 1f, batch, hkv, tk, d);
        var v = GradientCheck.Random(23, -1f, 1f, batch, hkv, tk, d);
        var bias = GradientCheck.Random(24, -0.5f, 0.5f, 1, hq, tq, tk);
        var upstream = GradientCheck.Random(25, -1f, 1f, batch, hq, tq, d);
        var mask = Tensor.Zeros(new Shape(batch, 1, tq, tk));
        for (int i = 0; i < tq; i++)
        {
            for (int j = prefix; j < prefix + 3; j++) mask.Span[((1 * tq) + i) * tk + j] = float.MinValue;
            if (i == fullyMaskedRow)
                for (int j = 0; j <= prefix + i; j++) mask.Span[i * tk + j] = float.MinValue;
        }
        foreach (var x in new[] { q, k, v, bias }) x.RequiresGrad = true;
        float[] output;
        using (new TensorScope())
        {
            var y = Ops.ScaledDotProductAttention(q, k, v, mask, bias, scale, replaceFutureScores: true);
            output = y.ToArray();
            Ops.SumAll(Ops.Multiply(y, upstream)).Backward();
        }

        float[] Q = q.ToArray(), K = k.ToArray(), V = v.ToArray(), dO = upstream.ToArray(), M = mask.ToArray(), B = bias.ToArray();
        var expected = new float[output.Length];
        var dq = new float[Q.Length];
        var dk = new float[K.Length];
        var dv = new float[V.Length];
        var dBias = new float[B.Length];
        var s = new float[tk];
        var p = new float[tk];
        var dP = new float[tk];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < hq; h++)
                for (int i = 0; i < tq; i++)
                {
                    int kh = h / (hq / hkv), valid = prefix + i + 1;
                    int qi = ((b * hq + h) * tq + i) * d, kv0 = (b * hkv + kh) * tk, bi = (h * tq + i) * tk;
                    for (int j = 0; j < tk; j++)
                    {
                        float dot = 0f;
                        for (int c = 0; c < d; c++) dot += Q[qi + c] * K[(kv0 + j) * d + c];
                        s[j] = (j >= valid ? float.MinValue : scale * dot) + M[(b * tq + i) * tk + j] + B[bi + j];
                    }
                    float max = s.Max();
                    float sum = 0f;
                    for (int j = 0; j < tk; j++) sum += p[j] = MathF.Exp(s[j] - max);
                    float rowDot = 0f;
                    for (int j = 0; j < tk; j++)
                    {
                        p[j] /= sum;
                        dP[j] = 0f;
                        for (int c = 0; c < d; c++)
                        {
                            expected[qi + c] += p[j] * V[(kv0 + j) * d + c];
                            dP[j] += dO[qi + c] * V[(kv0 + j) * d + c];
                            dv[(kv0 + j) * d + c] += p[j] * dO[qi + c];
                        }
                        rowDot += p[j] * dP[j];
                    }
                    // Replaced future scores are constants: nothing flows back through them.
                    for (int j = 0; j < valid; j++)
                    {
                        float dS = p[j] * (dP[j] - rowDot);
                        dBias[bi + j] += dS;
                        for (int c = 0; c < d; c++)
                        {
                            dq[qi + c] += scale * dS * K[(kv0 + j) * d + c];
                            dk[(kv0 + j) * d + c] += scale * dS * Q[qi + c];
                        }
                    }
                }
        int row = (0 * hq * tq + fullyMaskedRow) * d;
        Assert.AreNotEqual(0f, output[row], "the fully masked row weighs the keys beyond its block too (uniform over them)");
        GradientCheck.AssertClose(expected, output, atol: 1e-5, rtol: 1e-4, what: "output");
        GradientCheck.AssertClose(dq, q.Grad!.ToArray(), atol: 1e-5, rtol: 1e-4, what: "dQ");
        GradientCheck.AssertClose(dk, k.Grad!.ToArray(), atol: 1e-5, rtol: 1e-4, what: "dK");
        GradientCheck.AssertClose(dv, v.Grad!.ToArray(), atol: 1e-5, rtol: 1e-4, what: "dV");
        GradientCheck.AssertClose(dBias, bias.Grad!.ToArray(), atol: 1e-5, rtol: 1e-4, what: "dBias");
    }

    [TestMethod]
    public void BatchSharedBiasGradientSumsTheBatchRowsInOrder()
    {
        // T5's relative bias is shared by the batch. Its gradient must be the rows' shares added in batch order onto what
        // the gradient already held (accumulation), whichever worker ran which row: a resumed run has to end with the
        // same bits as an uninterrupted one. Each row's share is what a batch of that row alone gives.
        const int batch = 6, heads = 3, t = 48, d = 16;
        var q = GradientCheck.Random(31, -1f, 1f, batch, heads, t, d);
        var k = GradientCheck.Random(32, -1f, 1f, batch, heads, t, d);
        var v = GradientCheck.Random(33, -1f, 1f, batch, heads, t, d);
        var bias = GradientCheck.Random(34, -0.5f, 0.5f, 1, heads, t, t);
        var upstream = GradientCheck.Random(35, -1f, 1f, batch, heads, t, d);
        var held = GradientCheck.Random(36, -1f, 1f, 1, heads, t, t).ToArray();
        float[] BiasGradient(int from, int rows, float[] start)
        {
            Tensor Rows(Tensor x) => Tensor.FromArray(x.ToArray().AsSpan(from * heads * t * d, rows * heads * t * d).ToArray(), rows, heads, t, d);
            var (qs, ks, vs) = (Rows(q), Rows(k), Rows(v));
            var b = Tensor.Parameter(bias.ToArray(), bias.Shape);
            b.Grad = Tensor.FromArray((float[])start.Clone(), 1, heads, t, t);
            using (new TensorScope())
                Ops.SumAll(Ops.Multiply(Ops.ScaledDotProductAttention(qs, ks, vs, null, b, 1f), Rows(upstream))).Backward();
            return b.Grad!.ToArray();
        }
        var expected = held;
        for (int row = 0; row < batch; row++)
        {
            var share = BiasGradient(row, 1, new float[held.Length]);
            expected = expected.Zip(share, (a, s) => a + s).ToArray();
        }
        for (int run = 0; run < 20; run++)
        {
            var actual = BiasGradient(0, batch, held);
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]), $"run {run}, element {i}");
        }
    }
}
