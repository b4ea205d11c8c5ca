using System.Runtime.InteropServices;
using Peft.Tensors.Quantization;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Quantization;

/// <summary>
/// How a quantized weight named <c>W</c> is written to safetensors. int8: <c>W</c> (I8 [out, in])
/// and <c>W_scale</c> (F32 [out]). NF4: <c>W</c> (U8 [out, blocks·32], packed codes) and
/// <c>W_absmax</c> (F32 [out·blocks]), or with double quantization <c>W_absmax_codes</c> (I8
/// [out·blocks]), <c>W_absmax_scales</c> (F32 [groups of 256]) and <c>W_absmax_mean</c> (F32 [1]).
/// </summary>
internal static class QuantizedWeightFile
{
    public static IEnumerable<string> EntryNames(string name, QuantizedMatrix matrix) => matrix switch
    {
        Int8Matrix => [name, name + "_scale"],
        HalfMatrix => [name],
        Nf4Matrix { DoubleQuantized: true } => [name, name + "_absmax_codes", name + "_absmax_scales", name + "_absmax_mean"],
        _ => [name, name + "_absmax"],
    };

    public static IEnumerable<SafeTensorWriteEntry> ToEntries(string name, QuantizedMatrix matrix)
    {
        switch (matrix)
        {
            case Int8Matrix i8:
            {
                var values = new sbyte[(long)i8.Rows * i8.Columns];
                i8.CopyValues(values);
                yield return new SafeTensorWriteEntry(name, SafeTensorDType.I8, [i8.Rows, i8.Columns], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
                yield return SafeTensorWriteEntry.Float32(name + "_scale", i8.Scales.ToArray(), i8.Rows);
                break;
            }
            case Nf4Matrix nf:
            {
                yield return new SafeTensorWriteEntry(name, SafeTensorDType.U8, [nf.Rows, nf.BlocksPerRow * Nf4Matrix.BlockSize / 2], nf.Codes.ToArray());
                int blocks = nf.Rows * nf.BlocksPerRow;
                if (nf.DoubleQuantized)
                {
                    yield return new SafeTensorWriteEntry(name + "_absmax_codes", SafeTensorDType.I8, [blocks],
                        MemoryMarshal.AsBytes(nf.AbsMaxCodes).ToArray());
                    yield return SafeTensorWriteEntry.Float32(name + "_absmax_scales", nf.AbsMaxGroupScales.ToArray(), nf.AbsMaxGroupScales.Length);
                    yield return SafeTensorWriteEntry.Float32(name + "_absmax_mean", [nf.AbsMaxMean], 1);
                }
                else yield return SafeTensorWriteEntry.Float32(name + "_absmax", nf.AbsMax.ToArray(), blocks);
                break;
            }
            default:
                throw new ArgumentException($"Saving weight '{name}': quantized format {matrix.Format} has no file layout.", nameof(matrix));
        }
    }

    /// <summary>True when the checkpoint stores <paramref name="name"/> quantized (I8 or U8).</summary>
    public static bool IsQuantized(CheckpointReader checkpoint, string name) =>
        checkpoint.Contains(name) && checkpoint.GetInfo(name).DType is SafeTensorDType.I8 or SafeTensorDType.U8;

    /// <summary>Reads the quantized weight <paramref name="name"/> of shape [rows, columns].</summary>
    /// <exception cref="InvalidDataException">An entry is missing, has the wrong dtype or shape, or holds invalid values.</exception>
    public static QuantizedMatrix Read(CheckpointReader checkpoint, string name, int rows, int columns, QuantizationConfig config)
    {
        try
        {
            if (config.Format == QuantizationFormat.Int8)
            {
                Expect(checkpoint, name, SafeTensorDType.I8, [rows, columns]);
                Expect(checkpoint, name + "_scale", SafeTensorDType.F32, [rows]);
                return Int8Matrix.FromValues(rows, columns, MemoryMarshal.Cast<byte, sbyte>(checkpoint.GetBytes(name)), Floats(checkpoint, name + "_scale"));
            }
            int blocksPerRow = (columns + Nf4Matrix.BlockSize - 1) / Nf4Matrix.BlockSize;
            int blocks = rows * blocksPerRow;
            Expect(checkpoint, name, SafeTensorDType.U8, [rows, blocksPerRow * Nf4Matrix.BlockSize / 2]);
            if (!config.DoubleQuantization)
            {
                Expect(checkpoint, name + "_absmax", SafeTensorDType.F32, [blocks]);
                return Nf4Matrix.FromCodes(rows, columns, checkpoint.GetBytes(name), Floats(checkpoint, name + "_absmax"));
            }
            int groups = (blocks + Nf4Matrix.ScaleGroupSize - 1) / Nf4Matrix.ScaleGroupSize;
            Expect(checkpoint, name + "_absmax_codes", SafeTensorDType.I8, [blocks]);
            Expect(checkpoint, name + "_absmax_scales", SafeTensorDType.F32, [groups]);
            Expect(checkpoint, name + "_absmax_mean", SafeTensorDType.F32, [1]);
            return Nf4Matrix.FromCodes(rows, columns, checkpoint.GetBytes(name), MemoryMarshal.Cast<byte, sbyte>(checkpoint.GetBytes(name + "_absmax_codes")),
                Floats(checkpoint, name + "_absmax_scales"), Floats(checkpoint, name + "_absmax_mean")[0]);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{checkpoint.Folder}: quantized weight '{name}' is invalid: {ex.Message}", ex);
        }
    }

    private static float[] Floats(CheckpointReader checkpoint, string name)
    {
        var values = new float[checkpoint.GetInfo(name).ElementCount];
        checkpoint.ReadFloat32(name, values);
        return values;
    }

    private static void Expect(CheckpointReader checkpoint, string name, SafeTensorDType dtype, int[] shape)
    {
        if (!checkpoint.Contains(name))
            throw new InvalidDataException($"{checkpoint.Folder}: the quantized checkpoint lacks '{name}' ({dtype} [{string.Join(", ", shape)}]).");
        var info = checkpoint.GetInfo(name);
        if (info.DType != dtype || !info.Shape.AsSpan().SequenceEqual(shape))
            throw new InvalidDataException(
                $"{checkpoint.Folder}: '{name}' is {info.DType} {info.ShapeText}; the model (from config.json) needs {dtype} [{string.Join(", ", shape)}].");
    }
}
