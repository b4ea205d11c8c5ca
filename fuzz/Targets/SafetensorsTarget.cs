using Peft.Transformers.SafeTensors;

namespace Peft.Fuzz;

/// <summary>safetensors: the header (JSON, dtypes, shapes, data offsets) and every tensor read as the loaders read it.</summary>
public static class SafetensorsTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("safetensors", [typeof(SafeTensorsFormatException)], Parse);

    private static void Parse(byte[] input)
    {
        using (var file = SafeTensorsFile.FromBytes(input)) ReadAll(file);
        // The same bytes from disk: the memory-mapped path the model loaders take.
        FuzzInput.InScratchFolder(folder =>
        {
            string path = Path.Combine(folder, "model.safetensors");
            File.WriteAllBytes(path, input);
            using var file = SafeTensorsFile.Open(path);
            ReadAll(file);
        });
    }

    private static void ReadAll(SafeTensorsFile file)
    {
        foreach (var (name, info) in file.Tensors)
        {
            _ = file.GetBytes(name);
            if (info.DType is SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16) _ = file.ReadFloat32(name);
            else if (info.DType is SafeTensorDType.I64 or SafeTensorDType.I32 or SafeTensorDType.I8 or SafeTensorDType.U8 or SafeTensorDType.BOOL)
                _ = file.ReadInt32(name);
        }
    }
}
