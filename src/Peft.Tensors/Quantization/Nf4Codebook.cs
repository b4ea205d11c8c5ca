namespace Peft.Tensors.Quantization;

/// <summary>
/// The 16 NormalFloat-4 levels of QLoRA (Dettmers et al. 2023): quantiles of N(0, 1) scaled to
/// [-1, 1], with an exact zero. A 4-bit code is an index into <see cref="Values"/>.
/// </summary>
public static class Nf4Codebook
{
    /// <summary>The levels, ascending; code 7 is 0.</summary>
    public static ReadOnlySpan<float> Values =>
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>The code of 0 (used for padding).</summary>
    public const byte ZeroCode = 7;

    /// <summary>The code whose level is nearest to <paramref name="normalized"/> (a value in [-1, 1]).</summary>
    public static byte Encode(float normalized)
    {
        var levels = Values;
        // Levels are sorted: the nearest one is found by comparing against the midpoints.
        int code = 0;
        for (int i = 1; i < 16; i++)
            if (normalized > 0.5f * (levels[i - 1] + levels[i])) code = i;
        return (byte)code;
    }
}
