using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Quantization;

/// <summary>
/// int8 weight with one absmax scale per output channel: w[r, c] ≈ Values[r, c] · Scales[r], with
/// Scales[r] = max|w[r, :]| / 127, so each value is off by at most Scales[r] / 2. Rows are stored
/// zero-padded to a multiple of 64 bytes so kernels read whole vectors; the padding never
/// contributes to a product.
/// </summary>
public sealed class Int8Matrix : QuantizedMatrix
{
    private readonly sbyte[] _values;
    private readonly float[] _scales;
    private readonly int[] _rowSums;

    private Int8Matrix(int rows, int columns) : base(rows, columns)
    {
        Stride = PadColumns(columns);
        _values = new sbyte[(long)rows * Stride];
        _scales = new float[rows];
        _rowSums = new int[rows];
    }

    /// <inheritdoc />
    public override QuantizationFormat Format => QuantizationFormat.Int8;

    /// <inheritdoc />
    public override long ByteSize => (long)Rows * Columns + 4L * Rows;

    /// <summary>Per-row scales (Rows of them).</summary>
    public ReadOnlySpan<float> Scales => _scales;

    /// <summary>Padded row length of the stored values.</summary>
    internal int Stride { get; }

    /// <summary>Values [Rows, Stride], zero-padded.</summary>
    internal sbyte[] PaddedValues => _values;

    /// <summary>Σ_c Values[r, c] per row: the correction for activations offset by +128 in the direct int8 kernel.</summary>
    internal int[] RowSums => _rowSums;

    internal float[] ScaleArray => _scales;

    /// <summary>Quantizes a float weight [out, in] per row (round to nearest, absmax / 127 scales).</summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D or holds a non-finite value.</exception>
    public static Int8Matrix Quantize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"Int8Matrix.Quantize: the weight must be 2-D [out, in]; got {weight.Shape}.", nameof(weight));
        int rows = weight.Shape[0], cols = weight.Shape[1];
        var m = new Int8Matrix(rows, cols);
        ReadOnlySpan<float> w = weight.Span;
        for (int r = 0; r < rows; r++)
        {
            var row = w.Slice(r * cols, cols);
            float absMax = 0f;
            foreach (float v in row)
            {
                if (!float.IsFinite(v))
                    throw new ArgumentException(
                        $"Int8Matrix.Quantize: weight {weight.Name ?? weight.Shape.ToString()} has a non-finite value in row {r}.", nameof(weight));
                absMax = Math.Max(absMax, Math.Abs(v));
            }
            float scale = absMax / 127f;
            m._scales[r] = scale;
            float inv = scale == 0f ? 0f : 1f / scale;
            // A subnormal scale (absmax below ~4e-37) has no float reciprocal: 0·∞ is NaN and ±absmax·∞ is ±∞, so zeros and the
            // largest values came out as -127. Such rows divide instead.
            bool divide = float.IsInfinity(inv);
            var q = m._values.AsSpan(r * m.Stride, cols);
            int sum = 0;
            for (int c = 0; c < cols; c++)
            {
                int v = (int)MathF.Round(divide ? row[c] / scale : row[c] * inv, MidpointRounding.ToEven);
                v = Math.Clamp(v, -127, 127);
                q[c] = (sbyte)v;
                sum += v;
            }
            m._rowSums[r] = sum;
        }
        return m;
    }

    /// <summary>Rebuilds a matrix from stored values [rows, columns] (unpadded, row-major) and per-row scales.</summary>
    /// <exception cref="ArgumentException">
    /// The value or scale count does not match the shape, a value is -128, or a scale is negative or not finite.
    /// </exception>
    public static Int8Matrix FromValues(int rows, int columns, ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales)
    {
        if ((long)rows * columns != values.Length)
            throw new ArgumentException(
                $"Int8Matrix.FromValues: {values.Length} values do not fill [{rows}, {columns}] ({(long)rows * columns} expected).", nameof(values));
        if (scales.Length != rows)
            throw new ArgumentException($"Int8Matrix.FromValues: {scales.Length} scales for {rows} rows; one scale per row expected.", nameof(scales));
        var m = new Int8Matrix(rows, columns);
        for (int r = 0; r < rows; r++)
        {
            float s = scales[r];
            if (!float.IsFinite(s) || s < 0f)
                throw new ArgumentException($"Int8Matrix.FromValues: scale of row {r} is {s}; scales must be finite and non-negative.", nameof(scales));
            m._scales[r] = s;
            var src = values.Slice(r * columns, columns);
            int sum = 0;
            foreach (sbyte v in src)
            {
                if (v == sbyte.MinValue)
                    throw new ArgumentException($"Int8Matrix.FromValues: row {r} holds -128; symmetric int8 values lie in [-127, 127].", nameof(values));
                sum += v;
            }
            src.CopyTo(m._values.AsSpan(r * m.Stride, columns));
            m._rowSums[r] = sum;
        }
        return m;
    }

    /// <summary>Copies the values [Rows, Columns] (unpadded, row-major) to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public void CopyValues(Span<sbyte> destination)
    {
        if (destination.Length < (long)Rows * Columns)
            throw new ArgumentException(
                $"Int8Matrix.CopyValues: destination holds {destination.Length} values, [{Rows}, {Columns}] needs {(long)Rows * Columns}.",
                nameof(destination));
        for (int r = 0; r < Rows; r++)
            _values.AsSpan(r * Stride, Columns).CopyTo(destination.Slice(r * Columns, Columns));
    }

    /// <inheritdoc />
    internal override unsafe void DequantizeTile(int row0, int rows, int col0, int cols, float* dst, int ldd)
    {
        fixed (sbyte* values = _values)
        {
            for (int r = 0; r < rows; r++)
            {
                sbyte* src = values + (long)(row0 + r) * Stride + col0;
                float* d = dst + (long)r * ldd;
                float scale = _scales[row0 + r];
                int c = 0;
                if (Avx512F.IsSupported)
                {
                    var s = Vector512.Create(scale);
                    for (; c + 16 <= cols; c += 16)
                    {
                        // sbyte -> int -> float, 16 at a time.
                        var wide = Avx512F.ConvertToVector512Int32(Vector128.Load(src + c));
                        Vector512.Store(Vector512.ConvertToSingle(wide) * s, d + c);
                    }
                }
                for (; c < cols; c++) d[c] = src[c] * scale;
            }
        }
    }
}
