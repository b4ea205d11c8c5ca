using System.Text;

namespace Peft.Llama.Benchmarks;

/// <summary>
/// A GGUF version 3 file writer (ggml's docs/gguf.md): magic "GGUF", version, tensor and key-value counts, the key-value
/// metadata, the tensor infos (name, dims, type, offset into the data section), then the data section starting at the
/// next multiple of the alignment (32, GGUF's default) with every tensor at an aligned offset. All little-endian.
/// </summary>
internal sealed class GgufWriter
{
    private const int Alignment = 32;

    // GGUF metadata value types (gguf_type).
    private const uint UInt32Type = 4, Int32Type = 5, Float32Type = 6, BoolType = 7, StringType = 8, ArrayType = 9;

    private readonly List<(string Key, Action<BinaryWriter> Value)> _metadata = [];
    private readonly List<GgufTensor> _tensors = [];

    public void Add(string key, string value) => _metadata.Add((key, w => { w.Write(StringType); WriteString(w, value); }));

    public void Add(string key, uint value) => _metadata.Add((key, w => { w.Write(UInt32Type); w.Write(value); }));

    public void Add(string key, float value) => _metadata.Add((key, w => { w.Write(Float32Type); w.Write(value); }));

    public void Add(string key, bool value) => _metadata.Add((key, w => { w.Write(BoolType); w.Write(value); }));

    public void Add(string key, IReadOnlyList<string> values) => _metadata.Add((key, w =>
    {
        w.Write(ArrayType);
        w.Write(StringType);
        w.Write((ulong)values.Count);
        foreach (string v in values) WriteString(w, v);
    }));

    public void Add(string key, IReadOnlyList<int> values) => _metadata.Add((key, w =>
    {
        w.Write(ArrayType);
        w.Write(Int32Type);
        w.Write((ulong)values.Count);
        foreach (int v in values) w.Write(v);
    }));

    public void Add(GgufTensor tensor) => _tensors.Add(tensor);

    /// <summary>Writes the file (to a temporary name first, so an interrupted run leaves no truncated model behind).</summary>
    public void Save(string path)
    {
        string partial = path + ".partial";
        using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        using (var w = new BinaryWriter(stream, Encoding.UTF8))
        {
            w.Write("GGUF"u8);
            w.Write(3u);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, value) in _metadata)
            {
                WriteString(w, key);
                value(w);
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Shape.Length);
                foreach (long n in t.Shape) w.Write((ulong)n);
                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset = Align(offset + t.ByteSize);
            }
            Pad(w);
            foreach (var t in _tensors)
            {
                byte[] data = t.Data();
                if (data.Length != t.ByteSize) throw new InvalidOperationException($"{t.Name}: {data.Length} bytes, expected {t.ByteSize}.");
                w.Write(data);
                Pad(w);
            }
        }
        File.Move(partial, path, overwrite: true);
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        long position = w.BaseStream.Position;
        for (long i = position; i < Align(position); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
