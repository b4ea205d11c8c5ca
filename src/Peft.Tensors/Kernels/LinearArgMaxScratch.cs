namespace Peft.Tensors.Kernels;

/// <summary>Per-thread buffers of <c>Ops.LinearArgMax</c>'s screen, grown on demand and then reused (decoding allocates nothing per step).</summary>
internal static class LinearArgMaxScratch
{
    [ThreadStatic] private static float[]? t_rows;
    [ThreadStatic] private static float[]? t_approximations;

    /// <summary>Input rows padded with zeros to the screen's row length.</summary>
    public static float[] Rows(long length) => Grow(ref t_rows, length);

    /// <summary>Approximate logits, one vocabulary-sized row per input row.</summary>
    public static float[] Approximations(long length) => Grow(ref t_approximations, length);

    private static float[] Grow(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[Math.Max(length, 1024)];
        return buffer;
    }
}
