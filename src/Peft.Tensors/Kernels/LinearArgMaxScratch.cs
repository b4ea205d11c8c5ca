namespace Peft.Tensors.Kernels;

/// <summary>Per-thread buffers of <c>Ops.LinearArgMax</c>'s screen, grown on demand and then reused (decoding allocates nothing per step).</summary>
internal static class LinearArgMaxScratch
{
    [ThreadStatic] private static float[]? t_rows;
    [ThreadStatic] private static float[]? t_approximations;
    [ThreadStatic] private static short[]? t_int16Rows;

    /// <summary>Input rows padded with zeros to the screen's row length.</summary>
    public static float[] Rows(long length) => QuantizedScratch.Grow(ref t_rows, length);

    /// <summary>Approximate logits, one vocabulary-sized row per input row.</summary>
    public static float[] Approximations(long length) => QuantizedScratch.Grow(ref t_approximations, length);

    /// <summary>The input rows quantized to int16.</summary>
    public static short[] Int16Rows(long length) => QuantizedScratch.Grow(ref t_int16Rows, length);
}
