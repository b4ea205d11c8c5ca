namespace Peft.Tensors.Quantization;

/// <summary>
/// A frozen weight matrix [Rows = out, Columns = in] (PyTorch's Linear layout) stored in fewer
/// bits than float32. Kernels multiply by it directly; the float matrix is never materialized
/// except by <see cref="Dequantize"/>, which exists for tests and export.
/// </summary>
public abstract class QuantizedMatrix
{
    /// <summary>Creates the common part; rows and columns must be positive.</summary>
    private protected QuantizedMatrix(int rows, int columns)
    {
        if (rows <= 0 || columns <= 0)
            throw new ArgumentException($"A quantized matrix needs positive dimensions; got [{rows}, {columns}].");
        Rows = rows;
        Columns = columns;
    }

    /// <summary>
    /// Quantizes a float [out, in] weight to <paramref name="format"/> (<see cref="Int8Matrix"/> or
    /// <see cref="Nf4Matrix"/>, the latter optionally with double-quantized scales), or rounds it to nearest even 16-bit
    /// (<see cref="HalfMatrix"/> for BFloat16 and Float16).
    /// </summary>
    /// <param name="weight">The float weight.</param>
    /// <param name="format">Int8, Nf4, BFloat16 or Float16.</param>
    /// <param name="doubleQuantization">For NF4: quantize the block scales too.</param>
    /// <param name="what">Names the caller in the error for an unsupported format.</param>
    /// <exception cref="ArgumentException">The format is <see cref="QuantizationFormat.None"/> or unknown.</exception>
    public static QuantizedMatrix Quantize(Tensor weight, QuantizationFormat format, bool doubleQuantization, string what) => format switch
    {
        QuantizationFormat.Int8 => Int8Matrix.Quantize(weight),
        QuantizationFormat.Nf4 => Nf4Matrix.Quantize(weight, doubleQuantization),
        QuantizationFormat.BFloat16 or QuantizationFormat.Float16 => HalfMatrix.Round(weight, format),
        _ => throw new ArgumentException($"{what}: cannot quantize to format {format}; use Int8, Nf4, BFloat16 or Float16.", nameof(format)),
    };

    /// <summary>Output features (rows of the [out, in] weight).</summary>
    public int Rows { get; }

    /// <summary>Input features (columns).</summary>
    public int Columns { get; }

    /// <summary>The storage format.</summary>
    public abstract QuantizationFormat Format { get; }

    /// <summary>Bytes held by the quantized values and their scales (the resident weight memory).</summary>
    public abstract long ByteSize { get; }

    /// <summary>The float values of row <paramref name="row"/> (Columns of them) written to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row is out of range.</exception>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="Columns"/>.</exception>
    public void DequantizeRow(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), $"{Format} matrix [{Rows}, {Columns}]: row {row} is out of range.");
        if (destination.Length < Columns)
            throw new ArgumentException(
                $"{Format} matrix [{Rows}, {Columns}]: destination holds {destination.Length} values, a row needs {Columns}.", nameof(destination));
        unsafe
        {
            fixed (float* d = destination) DequantizeTile(row, 1, 0, Columns, d, Columns);
        }
    }

    /// <summary>The whole matrix as a new float tensor [Rows, Columns] (for tests and export; kernels never do this).</summary>
    public Tensor Dequantize()
    {
        var values = new float[(long)Rows * Columns];
        unsafe
        {
            fixed (float* d = values) DequantizeTile(0, Rows, 0, Columns, d, Columns);
        }
        return Tensor.Wrap(values, new Shape(Rows, Columns));
    }

    /// <summary>
    /// Writes rows [row0, row0+rows) × columns [col0, col0+cols) as floats to dst (row stride ldd).
    /// col0 is a multiple of <see cref="TileColumnAlignment"/>; col0+cols is a multiple of it or Columns.
    /// </summary>
    internal abstract unsafe void DequantizeTile(int row0, int rows, int col0, int cols, float* dst, int ldd);

    /// <summary>Column tiles passed to <see cref="DequantizeTile"/> start at multiples of this.</summary>
    internal const int TileColumnAlignment = 64;

    /// <summary>Rounds a column count up to whole 64-value blocks (the padded row length of the stores).</summary>
    internal static int PadColumns(int columns) => (columns + TileColumnAlignment - 1) / TileColumnAlignment * TileColumnAlignment;

    /// <summary>Describes the matrix.</summary>
    public override string ToString() => $"{Format} matrix [{Rows}, {Columns}] ({ByteSize} bytes)";
}
