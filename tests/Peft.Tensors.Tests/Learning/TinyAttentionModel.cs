using Peft.Tensors.Optimizers;

namespace Peft.Tensors.Tests;

/// <summary>
/// A one-layer, one-head causal attention model over token + position embeddings with a
/// residual connection, layer norm and a linear read-out: just enough to learn to copy.
/// </summary>
internal sealed class TinyAttentionModel
{
    private readonly int _dim;
    private readonly Tensor _tokens, _positions, _wq, _wk, _wv, _wo, _lnW, _lnB, _head;
    private readonly Tensor _mask;

    public TinyAttentionModel(int vocab, int length, int dim, int seed)
    {
        var rng = new SeededRandom((ulong)seed);
        _dim = dim;
        _tokens = TensorInit.Normal(new Shape(vocab, dim), 0, 1f, rng);
        _positions = TensorInit.Normal(new Shape(length, dim), 0, 1f, rng);
        _wq = TensorInit.KaimingUniform(new Shape(dim, dim), rng);
        _wk = TensorInit.KaimingUniform(new Shape(dim, dim), rng);
        _wv = TensorInit.KaimingUniform(new Shape(dim, dim), rng);
        _wo = TensorInit.KaimingUniform(new Shape(dim, dim), rng);
        _lnW = Tensor.Parameter(Enumerable.Repeat(1f, dim).ToArray(), new Shape(dim));
        _lnB = Tensor.Parameter(new float[dim], new Shape(dim));
        _head = TensorInit.KaimingUniform(new Shape(vocab, dim), rng);
        var causal = new float[length * length];
        for (int i = 0; i < length; i++)
            for (int j = i + 1; j < length; j++) causal[i * length + j] = float.MinValue;
        _mask = Tensor.FromArray(causal, 1, 1, length, length);
    }

    public Tensor[] Parameters => [_tokens, _positions, _wq, _wk, _wv, _wo, _lnW, _lnB, _head];

    public Tensor Logits(IntTensor ids)
    {
        int batch = ids.Shape[0], length = ids.Shape[1];
        var positionIds = IntTensor.FromArray(Enumerable.Range(0, batch * length).Select(i => i % length).ToArray(), batch, length);
        var x = Ops.Add(Ops.Embedding(ids, _tokens), Ops.Embedding(positionIds, _positions));
        var q = Ops.Reshape(Ops.Linear(x, _wq), batch, 1, length, _dim);
        var k = Ops.Reshape(Ops.Linear(x, _wk), batch, 1, length, _dim);
        var v = Ops.Reshape(Ops.Linear(x, _wv), batch, 1, length, _dim);
        var a = Ops.Reshape(Ops.ScaledDotProductAttention(q, k, v, _mask, null, 1f / MathF.Sqrt(_dim)), batch, length, _dim);
        var h = Ops.LayerNorm(Ops.Add(x, Ops.Linear(a, _wo)), _lnW, _lnB, 1e-5f);
        return Ops.Linear(h, _head);
    }

    /// <summary>One AdamW step on a batch; returns the loss.</summary>
    public float TrainStep(IntTensor ids, IntTensor targets, Optimizer optimizer)
    {
        using var scope = new TensorScope();
        var logits = Logits(ids);
        var loss = Ops.CrossEntropy(logits, targets);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }
}
