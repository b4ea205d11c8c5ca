using BenchmarkDotNet.Attributes;
using Peft.Tensors;
using Peft.Transformers.Masking;

namespace Peft.Benchmarks;

/// <summary>Causal attention forward and forward+backward, heads 12, head size 64, batch × length 4 × 128 or 1 × 512.</summary>
[Config(typeof(ShortJobConfig))]
public class AttentionBenchmarks : IFlopCount
{
    private const int Heads = 12, HeadDim = 64;
    private Tensor _q = null!, _k = null!, _v = null!, _mask = null!;

    // QKᵀ and P·V: 2 products of 2·T·T·D each per (batch, head); backward does 4 more.
    public double FlopsPerInvocation => 2.0 * 2 * Batch * Heads * Length * Length * HeadDim * (BackwardToo ? 3 : 1);

    [Params(false, true)]
    public bool BackwardToo { get; set; }

    /// <summary>Batch × length: a training batch of short rows, or one long row (where causal blocks skip the most).</summary>
    [Params("4x128", "1x512")]
    public string BatchByLength { get; set; } = "4x128";

    private int Batch => BatchByLength == "1x512" ? 1 : 4;

    private int Length => BatchByLength == "1x512" ? 512 : 128;

    /// <summary>Causal by replaced future scores (GPT-2's way: only visible keys go through the softmax) instead of an added mask.</summary>
    [Params(false, true)]
    public bool ReplacedFuture { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new SeededRandom(1);
        var shape = new Shape(Batch, Heads, Length, HeadDim);
        _q = TensorInit.Normal(shape, 0, 1, random);
        _k = TensorInit.Normal(shape, 0, 1, random);
        _v = TensorInit.Normal(shape, 0, 1, random);
        _mask = AttentionMasks.Causal(Batch, Length, Length, null, MaskStyle.MinValue);
    }

    [Benchmark]
    public float Attention()
    {
        using var scope = new TensorScope();
        var y = ReplacedFuture
            ? Ops.ScaledDotProductAttention(_q, _k, _v, null, null, 0.125f, replaceFutureScores: true)
            : Ops.ScaledDotProductAttention(_q, _k, _v, _mask, null, 0.125f);
        if (BackwardToo)
        {
            _q.ZeroGrad(); _k.ZeroGrad(); _v.ZeroGrad();
            Ops.SumAll(y).Backward();
        }
        return y.Span[0];
    }
}
