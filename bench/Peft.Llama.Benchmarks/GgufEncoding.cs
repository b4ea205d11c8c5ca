using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Peft.Llama.Benchmarks;

/// <summary>float32 values encoded as ggml stores them, with ggml's own rounding (its *_ref C functions).</summary>
internal static class GgufEncoding
{
    public static byte[] Encode(float[] values, GgufType type) => type switch
    {
        GgufType.F32 => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
        GgufType.F16 => Float16(values),
        GgufType.BF16 => BFloat16(values),
        GgufType.Q8_0 => Q8_0(values),
        _ => throw new NotSupportedException(type.ToString()),
    };

    // IEEE half, round to nearest even (ggml's F16C / fp32_to_fp16 path rounds the same way).
    private static byte[] Float16(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
        return bytes;
    }

    // ggml_compute_fp32_to_bf16: round to nearest even on the upper 16 bits (the weights here hold no NaN).
    private static byte[] BFloat16(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            uint u = BitConverter.SingleToUInt32Bits(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)((u + 0x7fff + ((u >> 16) & 1)) >> 16));
        }
        return bytes;
    }

    // quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 stored as f16, q = roundf(x / d) (half away from zero).
    private static byte[] Q8_0(float[] values)
    {
        const int Block = 32;
        var bytes = new byte[values.Length / Block * 34];
        for (int b = 0; b < values.Length / Block; b++)
        {
            var x = values.AsSpan(b * Block, Block);
            float amax = 0;
            foreach (float v in x) amax = Math.Max(amax, Math.Abs(v));
            float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
            var block = bytes.AsSpan(b * 34, 34);
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (int i = 0; i < Block; i++) block[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
        }
        return bytes;
    }
}
