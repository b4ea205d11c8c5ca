using System.Runtime.InteropServices;
using Peft.Tensors.Kernels;

namespace Peft.Tensors.Quantization;

/// <summary>
/// A frozen weight [out, in] held in 16 bits, bfloat16 or IEEE half (<see cref="Format"/> says which): half the memory of
/// float32 and, unlike int8 or NF4, no loss against a 16-bit checkpoint, whose bits are kept as they are. Kernels widen
/// the values exactly to float32 as they read them, so a product differs from the float32 model's only in summation order.
/// Every value is finite (a checkpoint holding an infinity or NaN is rejected on load).
/// </summary>
public sealed class HalfMatrix : QuantizedMatrix
{
    private readonly ushort[] _bits;

    private HalfMatrix(QuantizationFormat format, int rows, int columns) : base(rows, columns)
    {
        Format = format;
        _bits = new ushort[(long)rows * columns];
    }

    /// <inheritdoc />
    public override QuantizationFormat Format { get; }

    /// <inheritdoc />
    public override long ByteSize => 2L * Rows * Columns;

    /// <summary>The 16-bit patterns [Rows, Columns], row-major.</summary>
    public ReadOnlySpan<ushort> Bits => _bits;

    internal ushort[] BitArray => _bits;

    private readonly LogitScreenSlot _screen = new();

    /// <summary>
    /// The int8 screen greedy decoding's argmax reads (<c>Ops.QuantizedLinearArgMax</c>): null until it has been asked
    /// for more than <paramref name="warmUses"/> times, and when it cannot be made.
    /// </summary>
    internal LogitScreen? Screen(int warmUses = 0) => _screen.Get(warmUses, Rows, Columns, DequantizeRow);

    /// <summary>
    /// A matrix holding <paramref name="bits"/> as they are: BF16 or F16 patterns [rows, columns] row-major, or
    /// [columns, rows] when <paramref name="storedTransposed"/> (GPT-2's Conv1D checkpoint layout), transposed here.
    /// </summary>
    /// <exception cref="ArgumentException">The format is not 16-bit, the count does not fill the shape, or a value is infinite or NaN.</exception>
    public static HalfMatrix FromBits(QuantizationFormat format, int rows, int columns, ReadOnlySpan<ushort> bits, bool storedTransposed = false)
    {
        CheckFormat(format, "HalfMatrix.FromBits");
        if ((long)rows * columns != bits.Length)
            throw new ArgumentException(
                $"HalfMatrix.FromBits: {bits.Length} values do not fill [{rows}, {columns}] ({(long)rows * columns} expected).", nameof(bits));
        var m = new HalfMatrix(format, rows, columns);
        if (!storedTransposed) bits.CopyTo(m._bits);
        else
            for (int c = 0; c < columns; c++)
            {
                var src = bits.Slice(c * rows, rows);
                for (int r = 0; r < rows; r++) m._bits[(long)r * columns + c] = src[r];
            }
        ushort exponent = format == QuantizationFormat.BFloat16 ? (ushort)0x7F80 : (ushort)0x7C00;
        for (long i = 0; i < m._bits.Length; i++)
            if ((m._bits[i] & exponent) == exponent)
                throw new ArgumentException(
                    $"HalfMatrix.FromBits: {format} value [{i / columns}, {i % columns}] (bits 0x{m._bits[i]:X4}) is infinite or NaN; weights must be finite.",
                    nameof(bits));
        return m;
    }

    /// <summary><see cref="FromBits"/> over little-endian bytes as a safetensors file stores them.</summary>
    /// <exception cref="ArgumentException">As for <see cref="FromBits"/>, or the byte count is odd.</exception>
    public static HalfMatrix FromBytes(QuantizationFormat format, int rows, int columns, ReadOnlySpan<byte> bytes, bool storedTransposed = false)
    {
        if (bytes.Length % 2 != 0)
            throw new ArgumentException($"HalfMatrix.FromBytes: {bytes.Length} bytes is not a whole number of 16-bit values.", nameof(bytes));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("HalfMatrix.FromBytes reads little-endian data on a little-endian CPU only.");
        return FromBits(format, rows, columns, MemoryMarshal.Cast<byte, ushort>(bytes), storedTransposed);
    }

    /// <summary>Rounds a float weight [out, in] to 16 bits, each value to the nearest representable one (ties to even).</summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D, the format is not 16-bit, or a value is not finite or overflows the format.</exception>
    public static HalfMatrix Round(Tensor weight, QuantizationFormat format) => Convert(weight, format, exactOnly: false, "HalfMatrix.Round")!;

    /// <summary>
    /// The weight [out, in] in 16 bits when every value is exactly one of the format's finite values (a 16-bit checkpoint's
    /// weight read as float32), so the matrix holds it unchanged; null when some value would be rounded, overflow or is not
    /// finite. One pass: the check is the rounding.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D or the format is not 16-bit.</exception>
    public static HalfMatrix? RoundExactly(Tensor weight, QuantizationFormat format) => Convert(weight, format, exactOnly: true, "HalfMatrix.RoundExactly");

    private static HalfMatrix? Convert(Tensor weight, QuantizationFormat format, bool exactOnly, string what)
    {
        ArgumentNullException.ThrowIfNull(weight);
        CheckFormat(format, what);
        if (weight.Rank != 2)
            throw new ArgumentException($"{what}: the weight must be 2-D [out, in]; got {weight.Shape}.", nameof(weight));
        int rows = weight.Shape[0], cols = weight.Shape[1];
        var m = new HalfMatrix(format, rows, cols);
        ReadOnlySpan<float> w = weight.Span;
        for (int i = 0; i < w.Length; i++)
        {
            bool finite = TryRound(w[i], format, out m._bits[i]);
            if (exactOnly)
            {
                if (!finite || BitConverter.SingleToUInt32Bits(Widen(m._bits[i], format)) != BitConverter.SingleToUInt32Bits(w[i])) return null;
            }
            else if (!finite)
            {
                throw new ArgumentException(
                    $"{what}: weight {weight.Name ?? weight.Shape.ToString()} value [{i / cols}, {i % cols}] = {w[i]} " +
                    $"is not finite or overflows {format} (largest finite: {(format == QuantizationFormat.Float16 ? "65504" : "3.39e38")}).",
                    nameof(weight));
            }
        }
        return m;
    }

    /// <summary>
    /// The 16-bit pattern nearest <paramref name="value"/> (ties to even); false when the value is not finite or rounds to
    /// infinity.
    /// </summary>
    /// <exception cref="ArgumentException">The format is not BFloat16 or Float16.</exception>
    public static bool TryRound(float value, QuantizationFormat format, out ushort bits)
    {
        bits = 0;
        if (!float.IsFinite(value)) return false;
        if (format == QuantizationFormat.BFloat16)
        {
            // Adding 0x7FFF plus the kept part's lowest bit rounds to nearest with ties to even; a carry into the exponent
            // is the correct next binade (or infinity, rejected below).
            uint f = BitConverter.SingleToUInt32Bits(value);
            bits = (ushort)((f + 0x7FFFu + ((f >> 16) & 1u)) >> 16);
            return (bits & 0x7F80) != 0x7F80;
        }
        CheckFormat(format, "HalfMatrix.TryRound");
        var h = (Half)value; // .NET converts to nearest, ties to even
        bits = BitConverter.HalfToUInt16Bits(h);
        return !Half.IsInfinity(h);
    }

    /// <summary>The float32 value of a BF16 or F16 pattern (exact).</summary>
    /// <exception cref="ArgumentException">The format is not BFloat16 or Float16.</exception>
    public static float Widen(ushort bits, QuantizationFormat format) => format switch
    {
        QuantizationFormat.BFloat16 => BFloat16Widening.Widen(bits),
        QuantizationFormat.Float16 => Float16Widening.Widen(bits),
        _ => throw new ArgumentException($"HalfMatrix.Widen: {format} is not a 16-bit format.", nameof(format)),
    };

    private static void CheckFormat(QuantizationFormat format, string what)
    {
        if (format is not (QuantizationFormat.BFloat16 or QuantizationFormat.Float16))
            throw new ArgumentException($"{what}: format {format} is not 16-bit; use BFloat16 or Float16.", nameof(format));
    }

    /// <inheritdoc />
    internal override unsafe void DequantizeTile(int row0, int rows, int col0, int cols, float* dst, int ldd) =>
        WidenTile(row0, rows, col0, cols, dst, ldd, HalfDotKernel.UseAvx512);

    /// <summary>Widens rows [row0, row0+rows) × columns [col0, col0+cols) to dst (row stride ldd), with AVX-512 or portably.</summary>
    internal unsafe void WidenTile(int row0, int rows, int col0, int cols, float* dst, int ldd, bool avx512)
    {
        fixed (ushort* bits = _bits)
        {
            ushort* src = bits + (long)row0 * Columns + col0;
            if (Format == QuantizationFormat.BFloat16) HalfDotKernel.WidenRows<BFloat16Widening>(rows, cols, src, Columns, dst, ldd, avx512);
            else HalfDotKernel.WidenRows<Float16Widening>(rows, cols, src, Columns, dst, ldd, avx512);
        }
    }
}
