namespace Peft.Tensors.Kernels;

/// <summary>Per-thread buffers of the quantized kernels, grown on demand and then reused (steady state allocates nothing).</summary>
internal static class QuantizedScratch
{
    [ThreadStatic] private static float[]? t_tile;
    [ThreadStatic] private static float[]? t_rows;
    [ThreadStatic] private static byte[]? t_bytes;
    [ThreadStatic] private static float[]? t_rowScales;

    /// <summary>Dequantized weight tile.</summary>
    public static float[] Tile(long length) => Grow(ref t_tile, length);

    /// <summary>Padded copies of activation rows.</summary>
    public static float[] Rows(long length) => Grow(ref t_rows, length);

    /// <summary>Quantized activations.</summary>
    public static byte[] Bytes(long length)
    {
        if (t_bytes is null || t_bytes.Length < length) t_bytes = new byte[Math.Max(length, 4096)];
        return t_bytes;
    }

    /// <summary>Per-row activation scales, or a row's block scales.</summary>
    public static float[] RowScales(long length) => Grow(ref t_rowScales, length);

    private static float[] Grow(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[Math.Max(length, 1024)];
        return buffer;
    }
}
