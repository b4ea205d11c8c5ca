using System.Runtime.InteropServices;
using System.Text.Json;

namespace Peft.Llama.Benchmarks;

/// <summary>
/// Reads float32 tensors from a model.safetensors (an 8-byte header length, a JSON header of dtype, shape and byte
/// offsets, then the data): only what turning our gpt2 folder into GGUF needs.
/// </summary>
internal sealed class SafetensorsFile(string path)
{
    private readonly (long Data, Dictionary<string, (int[] Shape, long Begin, long End)> Tensors) _header = ReadHeader(path);

    public int[] Shape(string name) => _header.Tensors[name].Shape;

    public float[] Read(string name)
    {
        if (!_header.Tensors.TryGetValue(name, out var t)) throw new KeyNotFoundException($"{path} has no tensor {name}.");
        var values = new float[(t.End - t.Begin) / 4];
        using var handle = File.OpenHandle(path);
        int read = RandomAccess.Read(handle, MemoryMarshal.AsBytes(values.AsSpan()), _header.Data + t.Begin);
        if (read != values.Length * 4) throw new EndOfStreamException($"{path}: {name} is cut short.");
        return values;
    }

    private static (long, Dictionary<string, (int[], long, long)>) ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        var length = new byte[8];
        stream.ReadExactly(length);
        long n = BitConverter.ToInt64(length);
        var json = new byte[n];
        stream.ReadExactly(json);
        var tensors = new Dictionary<string, (int[], long, long)>();
        foreach (var p in JsonDocument.Parse(json).RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            if (p.Value.GetProperty("dtype").GetString() != "F32") throw new NotSupportedException($"{p.Name}: only F32 folders are converted.");
            int[] shape = [.. p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
            var offsets = p.Value.GetProperty("data_offsets");
            tensors[p.Name] = (shape, offsets[0].GetInt64(), offsets[1].GetInt64());
        }
        return (8 + n, tensors);
    }
}
