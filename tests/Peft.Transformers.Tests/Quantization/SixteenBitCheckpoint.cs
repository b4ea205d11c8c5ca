using System.Runtime.InteropServices;
using Peft.Tensors.Quantization;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

/// <summary>
/// Copies a float32 model folder with every F32 tensor written as BF16 or F16 (rounded to nearest even), as a 16-bit
/// Hugging Face checkpoint would be. Loading the copy as float32 and as 16-bit then gives models with the same weight values.
/// </summary>
internal static class SixteenBitCheckpoint
{
    /// <summary>A new temporary folder holding the copy; the caller deletes it.</summary>
    public static string Write(string sourceFolder, SafeTensorDType dtype)
    {
        var format = dtype == SafeTensorDType.BF16 ? QuantizationFormat.BFloat16 : QuantizationFormat.Float16;
        string folder = Directory.CreateTempSubdirectory($"peft-{dtype}-").FullName;
        foreach (var file in Directory.GetFiles(sourceFolder))
            if (!file.EndsWith(".safetensors", StringComparison.Ordinal)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var entries = new List<SafeTensorWriteEntry>();
        using (var weights = SafeTensorsFile.Open(Path.Combine(sourceFolder, "model.safetensors")))
            foreach (var t in weights.Tensors.Values)
            {
                if (t.DType != SafeTensorDType.F32)
                {
                    entries.Add(new SafeTensorWriteEntry(t.Name, t.DType, t.Shape, weights.GetBytes(t.Name).ToArray()));
                    continue;
                }
                var values = weights.ReadFloat32(t.Name);
                var bits = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                    if (!HalfMatrix.TryRound(values[i], format, out bits[i]))
                        throw new InvalidOperationException($"{t.Name}[{i}] = {values[i]} does not fit {dtype}.");
                entries.Add(new SafeTensorWriteEntry(t.Name, dtype, t.Shape, MemoryMarshal.AsBytes(bits.AsSpan()).ToArray()));
            }
        SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), entries, new Dictionary<string, string> { ["format"] = "pt" });
        return folder;
    }
}
