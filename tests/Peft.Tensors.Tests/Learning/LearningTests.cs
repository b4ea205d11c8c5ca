using Peft.Tensors.Optimizers;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class LearningTests
{
    [TestMethod]
    public void MlpLearnsXor()
    {
        var rng = new SeededRandom(3);
        var w1 = TensorInit.KaimingUniform(new Shape(8, 2), rng);
        var b1 = Tensor.Parameter(new float[8], new Shape(8));
        var w2 = TensorInit.KaimingUniform(new Shape(2, 8), rng);
        var b2 = Tensor.Parameter(new float[2], new Shape(2));
        var x = Tensor.FromArray([0, 0, 0, 1, 1, 0, 1, 1], 4, 2);
        var y = IntTensor.FromArray([0, 1, 1, 0], 4);
        var optimizer = new AdamW([w1, b1, w2, b2], learningRate: 0.05f, weightDecay: 0f);
        float loss = float.NaN;
        for (int step = 0; step < 300; step++)
        {
            using var scope = new TensorScope();
            var logits = Ops.Linear(Ops.Tanh(Ops.Linear(x, w1, b1)), w2, b2);
            var l = Ops.CrossEntropy(logits, y);
            optimizer.ZeroGrad();
            l.Backward();
            optimizer.Step();
            loss = l.Item();
        }
        Assert.IsLessThan(0.05f, loss, $"XOR loss after 300 steps: {loss}");
        using (Autograd.NoGrad())
        {
            var logits = Ops.Linear(Ops.Tanh(Ops.Linear(x, w1, b1)), w2, b2).ToArray();
            for (int i = 0; i < 4; i++)
                Assert.AreEqual(y.Span[i], logits[2 * i + 1] > logits[2 * i] ? 1 : 0, $"sample {i}");
        }
    }

    [TestMethod]
    public void OneLayerAttentionLearnsToCopy()
    {
        // Sequences "a b c d a b c d": the second half must be predicted from the first, which
        // needs attention 4 positions back. The loss counts only the second half.
        const int vocab = 8, half = 4, length = 2 * half, batch = 32;
        var model = new TinyAttentionModel(vocab, length, dim: 32, seed: 11);
        var optimizer = new AdamW(model.Parameters, learningRate: 0.01f, weightDecay: 0f);
        var data = new Random(5);
        float loss = float.NaN;
        for (int step = 0; step < 400; step++)
        {
            var (ids, targets) = CopyBatch(data, batch, half, vocab);
            loss = model.TrainStep(ids, targets, optimizer);
        }
        Assert.IsLessThan(0.05f, loss, $"copy-task loss after 400 steps: {loss}");

        var (testIds, testTargets) = CopyBatch(new Random(99), 64, half, vocab);
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var logits = model.Logits(testIds).ToArray();
        int correct = 0, counted = 0;
        for (int i = 0; i < testTargets.Length; i++)
        {
            if (testTargets.Span[i] < 0) continue;
            int best = 0;
            for (int c = 1; c < vocab; c++) if (logits[i * vocab + c] > logits[i * vocab + best]) best = c;
            correct += best == testTargets.Span[i] ? 1 : 0;
            counted++;
        }
        Assert.AreEqual(counted, correct, "every copied token of held-out sequences must be right");
    }

    private static (IntTensor Ids, IntTensor Targets) CopyBatch(Random random, int batch, int half, int vocab)
    {
        int length = 2 * half;
        var ids = new int[batch * length];
        var targets = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < half; t++) ids[b * length + t] = ids[b * length + half + t] = random.Next(vocab);
            // Position t predicts token t+1; only predictions of the second half count.
            for (int t = 0; t < length; t++)
                targets[b * length + t] = t >= half - 1 && t < length - 1 ? ids[b * length + t + 1] : -100;
        }
        return (IntTensor.FromArray(ids, batch, length), IntTensor.FromArray(targets, batch, length));
    }
}
