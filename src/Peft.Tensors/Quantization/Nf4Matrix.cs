using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Quantization;

/// <summary>
/// 4-bit NormalFloat weight (QLoRA): each row is cut into blocks of 64 values, each block keeps
/// its absmax and every value is the nearest <see cref="Nf4Codebook"/> level times that absmax.
/// With double quantization the absmax values themselves are stored as int8 (offset by their
/// mean, one float scale per group of 256 blocks), as QLoRA does, saving ~0.37 bits per weight.
/// </summary>
/// <remarks>
/// Layout: rows are padded to a multiple of 64 values with the zero code. Block b of row r is the
/// 32 bytes at r·Stride/2 + 32·b; byte j of a block holds value j in its low nibble and value
/// j + 32 in its high nibble, so a SIMD decoder widens 16 bytes and gets 16 consecutive values
/// from each nibble. (bitsandbytes packs neighbours into a byte instead; files written here use
/// this layout and say so in their quantization config.)
/// </remarks>
public sealed class Nf4Matrix : QuantizedMatrix
{
    /// <summary>Values per absmax block.</summary>
    public const int BlockSize = 64;

    /// <summary>Blocks per group sharing one float scale of the int8 absmax codes (double quantization).</summary>
    public const int ScaleGroupSize = 256;

    private const int BlockBytes = BlockSize / 2;

    private readonly byte[] _codes;
    private readonly float[]? _absMax;
    private readonly sbyte[]? _absMaxCodes;
    private readonly float[]? _absMaxGroupScales;

    private Nf4Matrix(int rows, int columns, bool doubleQuantized) : base(rows, columns)
    {
        Stride = PadColumns(columns);
        BlocksPerRow = Stride / BlockSize;
        _codes = new byte[(long)rows * Stride / 2];
        int blocks = rows * BlocksPerRow;
        if (doubleQuantized)
        {
            _absMaxCodes = new sbyte[blocks];
            _absMaxGroupScales = new float[(blocks + ScaleGroupSize - 1) / ScaleGroupSize];
        }
        else _absMax = new float[blocks];
    }

    /// <inheritdoc />
    public override QuantizationFormat Format => QuantizationFormat.Nf4;

    /// <inheritdoc />
    public override long ByteSize => _codes.Length + (DoubleQuantized ? _absMaxCodes!.Length + 4L * _absMaxGroupScales!.Length + 4 : 4L * _absMax!.Length);

    /// <summary>True when the block absmax values are stored as int8 (QLoRA's double quantization).</summary>
    public bool DoubleQuantized => _absMaxCodes is not null;

    /// <summary>Blocks per row (the padded row length / 64).</summary>
    public int BlocksPerRow { get; }

    /// <summary>Padded row length in values.</summary>
    internal int Stride { get; }

    /// <summary>The packed codes, [Rows, BlocksPerRow·32] bytes in the layout described on the class.</summary>
    public ReadOnlySpan<byte> Codes => _codes;

    /// <summary>Block absmax values [Rows·BlocksPerRow] when not double-quantized; empty otherwise.</summary>
    public ReadOnlySpan<float> AbsMax => _absMax;

    /// <summary>int8 codes of (absmax − <see cref="AbsMaxMean"/>) per block when double-quantized; empty otherwise.</summary>
    public ReadOnlySpan<sbyte> AbsMaxCodes => _absMaxCodes;

    /// <summary>One float scale per group of 256 absmax codes when double-quantized; empty otherwise.</summary>
    public ReadOnlySpan<float> AbsMaxGroupScales => _absMaxGroupScales;

    /// <summary>The mean absmax subtracted before quantizing the absmax values (double quantization).</summary>
    public float AbsMaxMean { get; private set; }

    internal byte[] CodeArray => _codes;

    /// <summary>The scale of block <paramref name="block"/> of row <paramref name="row"/> as the kernels use it.</summary>
    public float BlockScale(int row, int block)
    {
        int i = row * BlocksPerRow + block;
        return _absMax is not null ? _absMax[i] : _absMaxCodes![i] * _absMaxGroupScales![i / ScaleGroupSize] + AbsMaxMean;
    }

    /// <summary>Writes the BlocksPerRow scales of one row to <paramref name="destination"/>.</summary>
    internal void DecodeRowScales(int row, Span<float> destination)
    {
        int first = row * BlocksPerRow;
        if (_absMax is not null)
        {
            _absMax.AsSpan(first, BlocksPerRow).CopyTo(destination);
            return;
        }
        for (int b = 0; b < BlocksPerRow; b++)
        {
            int i = first + b;
            destination[b] = _absMaxCodes![i] * _absMaxGroupScales![i / ScaleGroupSize] + AbsMaxMean;
        }
    }

    /// <summary>Quantizes a float weight [out, in] to NF4 with block absmax scales (optionally double-quantized).</summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D or holds a non-finite value.</exception>
    public static Nf4Matrix Quantize(Tensor weight, bool doubleQuantization = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"Nf4Matrix.Quantize: the weight must be 2-D [out, in]; got {weight.Shape}.", nameof(weight));
        int rows = weight.Shape[0], cols = weight.Shape[1];
        var m = new Nf4Matrix(rows, cols, doubleQuantization);
        ReadOnlySpan<float> w = weight.Span;
        var absMax = new float[rows * m.BlocksPerRow];
        for (int r = 0; r < rows; r++)
        {
            for (int b = 0; b < m.BlocksPerRow; b++)
            {
                int c0 = b * BlockSize, count = Math.Min(BlockSize, cols - c0);
                float a = 0f;
                foreach (float v in w.Slice(r * cols + c0, count))
                {
                    if (!float.IsFinite(v))
                        throw new ArgumentException(
                            $"Nf4Matrix.Quantize: weight {weight.Name ?? weight.Shape.ToString()} has a non-finite value in row {r}.", nameof(weight));
                    a = Math.Max(a, Math.Abs(v));
                }
                absMax[r * m.BlocksPerRow + b] = a;
            }
        }
        if (doubleQuantization) m.QuantizeAbsMax(absMax);
        else absMax.CopyTo(m._absMax!, 0);

        Span<float> block = stackalloc float[BlockSize];
        for (int r = 0; r < rows; r++)
        {
            for (int b = 0; b < m.BlocksPerRow; b++)
            {
                int c0 = b * BlockSize, count = Math.Min(BlockSize, cols - c0);
                block.Clear();
                w.Slice(r * cols + c0, count).CopyTo(block);
                // Codes are chosen against the true absmax, as QLoRA does; only the stored scale is rounded.
                float a = absMax[r * m.BlocksPerRow + b];
                float inv = a == 0f ? 0f : 1f / a;
                // A subnormal absmax (below ~3e-39) has no float reciprocal: 0·∞ is NaN, which encoded as -1, so zeros came back as
                // -absmax. Such blocks divide instead.
                if (float.IsInfinity(inv))
                    for (int j = 0; j < count; j++) block[j] /= a;
                else
                    for (int j = 0; j < count; j++) block[j] *= inv;
                var codes = m._codes.AsSpan((r * m.BlocksPerRow + b) * BlockBytes, BlockBytes);
                for (int j = 0; j < BlockBytes; j++)
                {
                    byte lo = j < count ? Nf4Codebook.Encode(block[j]) : Nf4Codebook.ZeroCode;
                    byte hi = j + BlockBytes < count ? Nf4Codebook.Encode(block[j + BlockBytes]) : Nf4Codebook.ZeroCode;
                    codes[j] = (byte)(lo | (hi << 4));
                }
            }
        }
        return m;
    }

    private void QuantizeAbsMax(float[] absMax)
    {
        double mean = 0;
        foreach (float a in absMax) mean += a;
        AbsMaxMean = (float)(mean / absMax.Length);
        for (int g = 0; g < _absMaxGroupScales!.Length; g++)
        {
            int start = g * ScaleGroupSize, end = Math.Min(absMax.Length, start + ScaleGroupSize);
            float max = 0f;
            for (int i = start; i < end; i++) max = Math.Max(max, Math.Abs(absMax[i] - AbsMaxMean));
            float scale = max / 127f;
            _absMaxGroupScales[g] = scale;
            float inv = scale == 0f ? 0f : 1f / scale;
            for (int i = start; i < end; i++)
                _absMaxCodes![i] = (sbyte)Math.Clamp((int)MathF.Round((absMax[i] - AbsMaxMean) * inv), -127, 127);
        }
    }

    /// <summary>Rebuilds a matrix from stored codes (layout as on the class) and float block absmax values.</summary>
    /// <exception cref="ArgumentException">A length does not match the shape, or an absmax is negative or not finite.</exception>
    public static Nf4Matrix FromCodes(int rows, int columns, ReadOnlySpan<byte> codes, ReadOnlySpan<float> absMax)
    {
        var m = new Nf4Matrix(rows, columns, doubleQuantized: false);
        m.CheckAndCopyCodes(codes);
        if (absMax.Length != m._absMax!.Length)
            throw new ArgumentException(
                $"Nf4Matrix.FromCodes: {absMax.Length} absmax values for [{rows}, {columns}], which has {m._absMax.Length} blocks of {BlockSize}.",
                nameof(absMax));
        for (int i = 0; i < absMax.Length; i++)
            if (!float.IsFinite(absMax[i]) || absMax[i] < 0f)
                throw new ArgumentException($"Nf4Matrix.FromCodes: absmax of block {i} is {absMax[i]}; it must be finite and non-negative.", nameof(absMax));
        absMax.CopyTo(m._absMax);
        return m;
    }

    /// <summary>Rebuilds a double-quantized matrix from its codes, int8 absmax codes, their group scales and mean.</summary>
    /// <exception cref="ArgumentException">A length does not match the shape, or a scale is not finite.</exception>
    public static Nf4Matrix FromCodes(int rows, int columns, ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> absMaxCodes, ReadOnlySpan<float> absMaxGroupScales,
        float absMaxMean)
    {
        var m = new Nf4Matrix(rows, columns, doubleQuantized: true);
        m.CheckAndCopyCodes(codes);
        if (absMaxCodes.Length != m._absMaxCodes!.Length)
            throw new ArgumentException(
                $"Nf4Matrix.FromCodes: {absMaxCodes.Length} absmax codes for [{rows}, {columns}], " +
                $"which has {m._absMaxCodes.Length} blocks of {BlockSize}.", nameof(absMaxCodes));
        if (absMaxGroupScales.Length != m._absMaxGroupScales!.Length)
            throw new ArgumentException(
                $"Nf4Matrix.FromCodes: {absMaxGroupScales.Length} absmax group scales; " +
                $"{m._absMaxGroupScales.Length} groups of {ScaleGroupSize} blocks expected.", nameof(absMaxGroupScales));
        if (!float.IsFinite(absMaxMean)) throw new ArgumentException($"Nf4Matrix.FromCodes: absmax mean {absMaxMean} is not finite.", nameof(absMaxMean));
        foreach (float s in absMaxGroupScales)
            if (!float.IsFinite(s) || s < 0f)
                throw new ArgumentException($"Nf4Matrix.FromCodes: absmax group scale {s} must be finite and non-negative.", nameof(absMaxGroupScales));
        absMaxCodes.CopyTo(m._absMaxCodes);
        absMaxGroupScales.CopyTo(m._absMaxGroupScales);
        m.AbsMaxMean = absMaxMean;
        return m;
    }

    private void CheckAndCopyCodes(ReadOnlySpan<byte> codes)
    {
        if (codes.Length != _codes.Length)
            throw new ArgumentException(
                $"Nf4Matrix.FromCodes: {codes.Length} code bytes for [{Rows}, {Columns}]; " +
                $"{_codes.Length} expected ({Rows} rows × {BlocksPerRow} blocks × {BlockBytes} bytes).", nameof(codes));
        codes.CopyTo(_codes);
    }

    /// <inheritdoc />
    internal override unsafe void DequantizeTile(int row0, int rows, int col0, int cols, float* dst, int ldd)
    {
        int firstBlock = col0 / BlockSize, lastBlock = (col0 + cols + BlockSize - 1) / BlockSize;
        float* block = stackalloc float[BlockSize];
        fixed (byte* codes = _codes)
        {
            for (int r = 0; r < rows; r++)
            {
                int row = row0 + r;
                float* d = dst + (long)r * ldd;
                for (int b = firstBlock; b < lastBlock; b++)
                {
                    int c0 = b * BlockSize, count = Math.Min(BlockSize, col0 + cols - c0);
                    byte* src = codes + ((long)row * BlocksPerRow + b) * BlockBytes;
                    float scale = BlockScale(row, b);
                    if (count == BlockSize) DecodeBlock(src, scale, d + (c0 - col0));
                    else
                    {
                        DecodeBlock(src, scale, block);
                        new ReadOnlySpan<float>(block, count).CopyTo(new Span<float>(d + (c0 - col0), count));
                    }
                }
            }
        }
    }

    /// <summary>Decodes one block of 32 code bytes into 64 floats times <paramref name="scale"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void DecodeBlock(byte* codes, float scale, float* destination)
    {
        if (Avx512F.IsSupported)
        {
            var table = LevelsVector;
            var s = Vector512.Create(scale);
            var mask = Vector512.Create(0xF);
            for (int h = 0; h < 2; h++)
            {
                var ints = Avx512F.ConvertToVector512Int32(Vector128.Load(codes + 16 * h));
                var lo = Avx512F.PermuteVar16x32(table, ints & mask);
                var hi = Avx512F.PermuteVar16x32(table, Vector512.ShiftRightLogical(ints, 4));
                Vector512.Store(lo * s, destination + 16 * h);
                Vector512.Store(hi * s, destination + BlockBytes + 16 * h);
            }
            return;
        }
        var levels = Nf4Codebook.Values;
        for (int j = 0; j < BlockBytes; j++)
        {
            byte c = codes[j];
            destination[j] = levels[c & 0xF] * scale;
            destination[j + BlockBytes] = levels[c >> 4] * scale;
        }
    }

    /// <summary>The 16 levels in one 512-bit register, for permute-based decoding.</summary>
    internal static readonly Vector512<float> LevelsVector = Vector512.Create(Nf4Codebook.Values);
}
