namespace Peft.Tensors.Kernels;

/// <summary>Per-thread buffers of the quantized kernels, grown on demand and then reused (steady state allocates nothing).</summary>
internal static class QuantizedScratch
{
    [ThreadStatic] private static float[]? t_tile;
    [ThreadStatic] private static float[]? t_rows;
    [ThreadStatic] private static byte[]? t_bytes;
    [ThreadStatic] private static float[]? t_rowScales;
    [ThreadStatic] private static int[]? t_rowCorrections;
    [ThreadStatic] private static byte[]? t_panel;
    [ThreadStatic] private static float[]? t_panelTail;

    /// <summary>Dequantized weight tile.</summary>
    public static float[] Tile(long length) => Grow(ref t_tile, length);

    /// <summary>Padded copies of activation rows.</summary>
    public static float[] Rows(long length) => Grow(ref t_rows, length);

    /// <summary>Quantized activations.</summary>
    public static byte[] Bytes(long length) => Grow(ref t_bytes, length, 4096);

    /// <summary>Per-row activation scales, or a row's block scales.</summary>
    public static float[] RowScales(long length) => Grow(ref t_rowScales, length);

    /// <summary>Per-row int8 sum corrections of the panel kernel's activations.</summary>
    public static int[] RowCorrections(long length) => Grow(ref t_rowCorrections, length);

    /// <summary>A weight panel packed for the panel kernel (each worker packs its own).</summary>
    public static byte[] Panel(long length) => Grow(ref t_panel, length, 4096);

    /// <summary>The panel kernel's output and column scales for a panel whose columns do not fill its vectors.</summary>
    public static float[] PanelTail(long length) => Grow(ref t_panelTail, length);

    /// <summary>A thread's buffer, replaced by one of at least <paramref name="length"/> (and <paramref name="minimum"/>) elements when shorter.</summary>
    internal static T[] Grow<T>(ref T[]? buffer, long length, long minimum = 1024)
    {
        if (buffer is null || buffer.Length < length) buffer = new T[Math.Max(length, minimum)];
        return buffer;
    }
}
