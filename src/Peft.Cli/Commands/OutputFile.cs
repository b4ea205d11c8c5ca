using System.Runtime.InteropServices;
using Peft.Tensors;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Commands;

/// <summary>Writes command results as safetensors (atomically).</summary>
internal static class OutputFile
{
    public static SafeTensorWriteEntry Float32(string name, Tensor t) =>
        new(name, SafeTensorDType.F32, t.Shape.ToArray(), MemoryMarshal.AsBytes(t.Span).ToArray());

    public static SafeTensorWriteEntry Int64(string name, IntTensor t)
    {
        var values = new long[t.Length];
        for (int i = 0; i < values.Length; i++) values[i] = t.Span[i];
        return SafeTensorWriteEntry.Int64(name, values, t.Shape.ToArray());
    }

    public static void Write(string path, IEnumerable<SafeTensorWriteEntry> entries) =>
        SafeTensorsWriter.Write(path, entries, new Dictionary<string, string> { ["format"] = "pt" });
}
