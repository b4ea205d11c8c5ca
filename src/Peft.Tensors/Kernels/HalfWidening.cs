using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Exact widening of 16-bit floats (BF16 or F16 bit patterns) to float32, one value, 16 lanes (AVX-512) or a
/// <see cref="Vector{T}"/> at a time. .NET 10 exposes neither AVX-512 BF16 (<c>vdpbf16ps</c>) nor F16C
/// (<c>vcvtph2ps</c>), so the kernels widen with integer shifts and one multiply, then use float32 FMA.
/// Generic kernels take the format as a type argument so the JIT emits one specialized loop per format.
/// </summary>
internal interface IHalfWidening
{
    /// <summary>One value.</summary>
    static abstract float Widen(ushort bits);

    /// <summary>16 values (AVX-512F).</summary>
    static abstract Vector512<float> Widen(Vector256<ushort> bits);

    /// <summary>Vector&lt;uint&gt;.Count values already zero-extended to 32 bits (portable path).</summary>
    static abstract Vector<float> Widen(Vector<uint> bits);
}

/// <summary>bfloat16: the upper half of a float32, so widening is a 16-bit left shift.</summary>
internal readonly struct BFloat16Widening : IHalfWidening
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector256<ushort> bits) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(bits), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Widen(Vector<uint> bits) => Vector.AsVectorSingle(Vector.ShiftLeft(bits, 16));
}

/// <summary>
/// IEEE half: exponent and mantissa shifted into float32 position (13 bits) and scaled by 2^112 to rebias the exponent
/// (15 to 127); subnormal halves land on float32 subnormals that the multiply makes exact normals. Exact for every finite
/// half, which is all a <see cref="Quantization.HalfMatrix"/> holds (it rejects infinities and NaN).
/// </summary>
internal readonly struct Float16Widening : IHalfWidening
{
    // 2^112 = 2^(127 - 15).
    private const float Rebias = 5.192296858534828e33f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector256<ushort> bits)
    {
        var u = Avx512F.ConvertToVector512UInt32(bits);
        var magnitude = Avx512F.ShiftLeftLogical(u & Vector512.Create(0x7FFFu), 13).AsSingle() * Vector512.Create(Rebias);
        var sign = Avx512F.ShiftLeftLogical(u & Vector512.Create(0x8000u), 16);
        return (magnitude.AsUInt32() | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Widen(Vector<uint> bits)
    {
        var magnitude = Vector.AsVectorSingle(Vector.ShiftLeft(bits & new Vector<uint>(0x7FFFu), 13)) * new Vector<float>(Rebias);
        var sign = Vector.ShiftLeft(bits & new Vector<uint>(0x8000u), 16);
        return Vector.AsVectorSingle(Vector.AsVectorUInt32(magnitude) | sign);
    }
}
