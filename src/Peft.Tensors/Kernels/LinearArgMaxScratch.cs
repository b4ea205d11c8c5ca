namespace Peft.Tensors.Kernels;

/// <summary>Per-thread buffers of <c>Ops.LinearArgMax</c>'s screen, grown on demand and then reused (decoding allocates nothing per step).</summary>
internal static class LinearArgMaxScratch
{
    [ThreadStatic] private static float[]? t_rows;
    [ThreadStatic] private static float[]? t_approximations;
    [ThreadStatic] private static short[]? t_int16Rows;

    /// <summary>Input rows padded with zeros to the screen's row length.</summary>
    public static float[] Rows(long length) => Grow(ref t_rows, length);

    /// <summary>Approximate logits, one vocabulary-sized row per input row.</summary>
    public static float[] Approximations(long length) => Grow(ref t_approximations, length);

    /// <summary>The input rows quantized to int16.</summary>
    public static short[] Int16Rows(long length)
    {
        if (t_int16Rows is null || t_int16Rows.Length < length) t_int16Rows = new short[Math.Max(length, 1024)];
        return t_int16Rows;
    }

    private static float[] Grow(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[Math.Max(length, 1024)];
        return buffer;
    }
}
