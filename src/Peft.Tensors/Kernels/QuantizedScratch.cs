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
    public static byte[] Bytes(long length)
    {
        if (t_bytes is null || t_bytes.Length < length) t_bytes = new byte[Math.Max(length, 4096)];
        return t_bytes;
    }

    /// <summary>Per-row activation scales, or a row's block scales.</summary>
    public static float[] RowScales(long length) => Grow(ref t_rowScales, length);

    /// <summary>Per-row int8 sum corrections of the panel kernel's activations.</summary>
    public static int[] RowCorrections(long length)
    {
        if (t_rowCorrections is null || t_rowCorrections.Length < length) t_rowCorrections = new int[Math.Max(length, 1024)];
        return t_rowCorrections;
    }

    /// <summary>A weight panel packed for the panel kernel (each worker packs its own).</summary>
    public static byte[] Panel(long length)
    {
        if (t_panel is null || t_panel.Length < length) t_panel = new byte[Math.Max(length, 4096)];
        return t_panel;
    }

    /// <summary>The panel kernel's output and column scales for a panel whose columns do not fill its vectors.</summary>
    public static float[] PanelTail(long length) => Grow(ref t_panelTail, length);

    private static float[] Grow(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[Math.Max(length, 1024)];
        return buffer;
    }
}
