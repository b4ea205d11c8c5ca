using System.Numerics;

namespace Peft.Tensors.Optimizers;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter), step for step what
/// <c>torch.optim.AdamW</c> computes: decay, moment updates, bias correction, then
/// p −= lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε).
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly float[][] _m;
    private readonly float[][] _v;

    /// <summary>Creates the optimizer with PyTorch's defaults unless given.</summary>
    public AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base(parameters, learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"beta1 must be in [0, 1); got {beta1}.");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), $"beta2 must be in [0, 1); got {beta2}.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"epsilon must be >= 0; got {epsilon}.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weightDecay must be >= 0; got {weightDecay}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _m = new float[Parameters.Count][];
        _v = new float[Parameters.Count][];
        for (int i = 0; i < Parameters.Count; i++)
        {
            _m[i] = new float[Parameters[i].Length];
            _v[i] = new float[Parameters[i].Length];
        }
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Epsilon { get; }

    /// <summary>Decoupled weight decay coefficient.</summary>
    public float WeightDecay { get; }

    /// <summary>First-moment estimate of parameter <paramref name="index"/> (for checkpoints).</summary>
    public Span<float> FirstMoment(int index) => _m[index];

    /// <summary>Second-moment estimate of parameter <paramref name="index"/> (for checkpoints).</summary>
    public Span<float> SecondMoment(int index) => _v[index];

    /// <summary>Sets the step counter, e.g. when resuming from a checkpoint together with the moments.</summary>
    public void RestoreStepCount(int steps)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), $"Step count must be >= 0; got {steps}.");
        StepCount = steps;
    }

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> p, ReadOnlySpan<float> g)
    {
        float lr = LearningRate;
        float b1 = Beta1, b2 = Beta2;
        // Same operation order and precision as torch.optim.AdamW's single-tensor path.
        float decay = 1f - lr * WeightDecay;
        float bc1 = 1f - MathF.Pow(b1, StepCount);
        float bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(b2, StepCount));
        float stepSize = lr / bc1;
        float eps = Epsilon;
        Span<float> m = _m[index], v = _v[index];
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            var vb1 = new Vector<float>(b1);
            var v1mb1 = new Vector<float>(1f - b1);
            var vb2 = new Vector<float>(b2);
            var v1mb2 = new Vector<float>(1f - b2);
            var vdecay = new Vector<float>(decay);
            var vbc2 = new Vector<float>(bc2Sqrt);
            var veps = new Vector<float>(eps);
            var vstep = new Vector<float>(stepSize);
            for (; i <= p.Length - w; i += w)
            {
                var gv = new Vector<float>(g.Slice(i));
                var mv = new Vector<float>(m.Slice(i)) * vb1 + gv * v1mb1;
                var vv = new Vector<float>(v.Slice(i)) * vb2 + gv * gv * v1mb2;
                var pv = new Vector<float>(p.Slice(i)) * vdecay;
                pv -= vstep * mv / (Vector.SquareRoot(vv) / vbc2 + veps);
                mv.CopyTo(m.Slice(i));
                vv.CopyTo(v.Slice(i));
                pv.CopyTo(p.Slice(i));
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i];
            float mi = m[i] * b1 + gi * (1f - b1);
            float vi = v[i] * b2 + gi * gi * (1f - b2);
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + eps);
        }
    }
}
