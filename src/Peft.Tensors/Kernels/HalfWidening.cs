using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Exact widening of 16-bit floats (BF16 or F16 bit patterns) to float32, one value, 16 lanes (AVX-512) or a
/// <see cref="Vector{T}"/> at a time. .NET 10 exposes neither AVX-512 BF16 (<c>vdpbf16ps</c>) nor F16C
/// (<c>vcvtph2ps</c>), so the managed kernels widen with integer shifts and one multiply, then use float32 FMA; F16 rows
/// and tiles on AVX-512 go through <see cref="Float16RowKernel"/>, assembled around vcvtph2ps, instead.
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
/// IEEE half: sign-extended to 32 bits and shifted left 13, the exponent and mantissa land in float32 position and the
/// sign on bit 31 (bits 28-30 hold copies of it, which a mask clears); a multiply by 2^112 rebiases the exponent
/// (15 to 127), and subnormal halves land on float32 subnormals that the multiply makes exact normals. Four instructions
/// per 16 values; exact for every finite half, which is all a <see cref="Quantization.HalfMatrix"/> holds (it rejects
/// infinities and NaN).
/// </summary>
internal readonly struct Float16Widening : IHalfWidening
{
    // 2^112 = 2^(127 - 15).
    private const float Rebias = 5.192296858534828e33f;

    // The sign bit and the 15 exponent and mantissa bits after the shift; the sign's copies on bits 28-30 cleared.
    private const uint Kept = 0x8FFFE000u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector256<ushort> bits) =>
        (Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(bits.AsInt16()), 13).AsUInt32() & Vector512.Create(Kept)).AsSingle()
        * Vector512.Create(Rebias);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Widen(Vector<uint> bits)
    {
        // The portable path gets the halves zero-extended: the sign moves from bit 15 to bit 31 on its own.
        var magnitude = Vector.AsVectorSingle(Vector.ShiftLeft(bits & new Vector<uint>(0x7FFFu), 13)) * new Vector<float>(Rebias);
        var sign = Vector.ShiftLeft(bits & new Vector<uint>(0x8000u), 16);
        return Vector.AsVectorSingle(Vector.AsVectorUInt32(magnitude) | sign);
    }
}
