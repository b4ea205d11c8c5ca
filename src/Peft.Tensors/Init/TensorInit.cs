namespace Peft.Tensors;

/// <summary>
/// Random initialization with a <see cref="SeededRandom"/>, following PyTorch's formulas
/// (nn.init.normal_, uniform_, kaiming_uniform_ with a = √5 as nn.Linear uses).
/// </summary>
public static class TensorInit
{
    /// <summary>A trainable tensor with N(mean, std²) entries.</summary>
    public static Tensor Normal(Shape shape, float mean, float std, SeededRandom random, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), $"Normal init needs std >= 0; got {std}.");
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = mean + std * random.NextNormal();
        return Tensor.Parameter(values, shape, name);
    }

    /// <summary>A trainable tensor with entries uniform in [low, high).</summary>
    public static Tensor Uniform(Shape shape, float low, float high, SeededRandom random, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!(high >= low)) throw new ArgumentOutOfRangeException(nameof(high), $"Uniform init needs high >= low; got [{low}, {high}).");
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * random.NextFloat();
        return Tensor.Parameter(values, shape, name);
    }

    /// <summary>
    /// Kaiming (He) uniform for a weight [out, in, ...]: bound = gain·√(3 / fan_in) with
    /// gain = √(2 / (1 + a²)). With a = √5 (the default) this is PyTorch's nn.Linear init.
    /// </summary>
    public static Tensor KaimingUniform(Shape shape, SeededRandom random, float a = 2.23606797749979f, string? name = null)
    {
        float bound = MathF.Sqrt(2f / (1f + a * a)) * MathF.Sqrt(3f / FanIn(shape));
        return Uniform(shape, -bound, bound, random, name);
    }

    /// <summary>Kaiming (He) normal for ReLU networks: std = √(2 / fan_in).</summary>
    public static Tensor KaimingNormal(Shape shape, SeededRandom random, string? name = null) =>
        Normal(shape, 0f, MathF.Sqrt(2f / FanIn(shape)), random, name);

    private static int FanIn(Shape shape)
    {
        if (shape.Rank < 2)
            throw new ArgumentException($"Kaiming init needs a weight of rank 2 or more ([out, in, ...]); got {shape}.", nameof(shape));
        int fanIn = shape.ProductRange(1, shape.Rank);
        if (fanIn == 0) throw new ArgumentException($"Kaiming init of {shape}: fan-in is 0.", nameof(shape));
        return fanIn;
    }
}
