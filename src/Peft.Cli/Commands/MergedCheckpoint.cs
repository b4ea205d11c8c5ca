using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Commands;

/// <summary>
/// Writes a model's parameters as the base folder's checkpoint had them: the same tensor names
/// (GPT2Model files without "transformer."), shapes, dtypes (F32, F16 or BF16, rounded to nearest
/// even) and extra buffers, so Hugging Face loads the result as it loaded the base.
/// </summary>
internal static class MergedCheckpoint
{
    public static void Write(ParameterSet parameters, string baseFolder, string path)
    {
        var ours = parameters.ToEntries().ToDictionary(e => e.Name, StringComparer.Ordinal);
        using var checkpoint = CheckpointReader.Open(baseFolder);
        var entries = new List<SafeTensorWriteEntry>();
        foreach (string key in checkpoint.Names.Order(StringComparer.Ordinal))
        {
            var info = checkpoint.GetInfo(key);
            if (!ours.TryGetValue(key, out var entry) && !ours.TryGetValue("transformer." + key, out entry))
            {
                // Not a parameter of ours (buffers, a tied head): kept byte for byte.
                entries.Add(new SafeTensorWriteEntry(key, info.DType, info.Shape, checkpoint.GetBytes(key).ToArray()));
                continue;
            }
            if (!entry.Shape.AsSpan().SequenceEqual(info.Shape))
                throw new InvalidDataException($"{baseFolder}: '{key}' is {info.ShapeText} in the base but [{string.Join(", ", entry.Shape)}] in the merged model.");
            entries.Add(new SafeTensorWriteEntry(key, info.DType, info.Shape, Convert(MemoryMarshal.Cast<byte, float>(entry.Data.Span), info.DType, key)));
        }
        SafeTensorsWriter.Write(path, entries, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static byte[] Convert(ReadOnlySpan<float> values, SafeTensorDType dtype, string key)
    {
        switch (dtype)
        {
            case SafeTensorDType.F32:
                return MemoryMarshal.AsBytes(values).ToArray();
            case SafeTensorDType.F16:
                var halves = new Half[values.Length];
                TensorPrimitives.ConvertToHalf(values, halves);
                return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            case SafeTensorDType.BF16:
                var brain = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                    brain[i] = float.IsNaN(values[i]) ? (ushort)0x7FC0 : (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
                }
                return MemoryMarshal.AsBytes(brain.AsSpan()).ToArray();
            default:
                throw new InvalidDataException($"'{key}' is stored as {dtype} in the base; only F32, F16 and BF16 weights can be rewritten.");
        }
    }
}
