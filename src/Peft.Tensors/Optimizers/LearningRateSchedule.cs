namespace Peft.Tensors.Optimizers;

/// <summary>
/// A learning rate as a function of the optimizer step, with the shapes of Hugging Face's
/// schedulers (<c>get_constant_schedule_with_warmup</c>, <c>get_linear_schedule_with_warmup</c>,
/// <c>get_cosine_schedule_with_warmup</c>): a multiplier of the base rate.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Creates a schedule.</summary>
    protected LearningRateSchedule(float baseLearningRate, int warmupSteps)
    {
        if (!(baseLearningRate >= 0) || float.IsInfinity(baseLearningRate))
            throw new ArgumentOutOfRangeException(nameof(baseLearningRate), $"Base learning rate must be finite and >= 0; got {baseLearningRate}.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"Warmup steps must be >= 0; got {warmupSteps}.");
        BaseLearningRate = baseLearningRate;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The peak learning rate.</summary>
    public float BaseLearningRate { get; }

    /// <summary>Steps of linear warmup from 0 to the base rate.</summary>
    public int WarmupSteps { get; }

    /// <summary>The learning rate for zero-based step <paramref name="step"/>.</summary>
    public float LearningRateAt(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"Step must be >= 0; got {step}.");
        if (step < WarmupSteps) return BaseLearningRate * step / Math.Max(1, WarmupSteps);
        return BaseLearningRate * DecayFactor(step);
    }

    /// <summary>Multiplier after warmup.</summary>
    protected abstract float DecayFactor(int step);

    /// <summary>Constant rate after an optional warmup.</summary>
    public static LearningRateSchedule Constant(float learningRate, int warmupSteps = 0) => new ConstantSchedule(learningRate, warmupSteps);

    /// <summary>Linear warmup, then linear decay to 0 at <paramref name="totalSteps"/>.</summary>
    public static LearningRateSchedule Linear(float learningRate, int warmupSteps, int totalSteps) => new LinearSchedule(learningRate, warmupSteps, totalSteps);

    /// <summary>Linear warmup, then cosine decay to 0 at <paramref name="totalSteps"/> (half a cosine wave by default).</summary>
    public static LearningRateSchedule Cosine(float learningRate, int warmupSteps, int totalSteps, float cycles = 0.5f) =>
        new CosineSchedule(learningRate, warmupSteps, totalSteps, cycles);

    private static void CheckTotal(int warmupSteps, int totalSteps)
    {
        if (totalSteps < warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"Total steps ({totalSteps}) must be >= warmup steps ({warmupSteps}).");
    }

    private sealed class ConstantSchedule(float lr, int warmup) : LearningRateSchedule(lr, warmup)
    {
        protected override float DecayFactor(int step) => 1f;
    }

    private sealed class LinearSchedule : LearningRateSchedule
    {
        private readonly int _total;

        public LinearSchedule(float lr, int warmup, int total) : base(lr, warmup)
        {
            CheckTotal(warmup, total);
            _total = total;
        }

        protected override float DecayFactor(int step) =>
            Math.Max(0f, (float)(_total - step) / Math.Max(1, _total - WarmupSteps));
    }

    private sealed class CosineSchedule : LearningRateSchedule
    {
        private readonly int _total;
        private readonly float _cycles;

        public CosineSchedule(float lr, int warmup, int total, float cycles) : base(lr, warmup)
        {
            CheckTotal(warmup, total);
            _total = total;
            _cycles = cycles;
        }

        protected override float DecayFactor(int step)
        {
            double progress = (double)(step - WarmupSteps) / Math.Max(1, _total - WarmupSteps);
            return (float)Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * _cycles * 2.0 * progress)));
        }
    }
}
