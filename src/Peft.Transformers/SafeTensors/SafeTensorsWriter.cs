using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Peft.Transformers.Loading;

namespace Peft.Transformers.SafeTensors;

/// <summary>
/// Writes safetensors files the way the reference implementation lays them out (tensors ordered
/// by dtype, widest first, then by name; <c>__metadata__</c> first; compact JSON padded with
/// spaces to 8 bytes), so a file read and written back is identical byte for byte. Writes are
/// atomic (<see cref="AtomicFile"/>): a temporary file in the same folder is flushed to disk and
/// renamed over the target only when complete.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (and optional metadata) to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Duplicate names, or data whose size does not match dtype and shape.</exception>
    /// <exception cref="WriteFailedException">The file could not be written (disk full, read-only destination, ...).</exception>
    public static void Write(string path, IEnumerable<SafeTensorWriteEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var ordered = Validate(tensors);
        byte[] header = BuildHeader(ordered, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var t in ordered) stream.Write(t.Data.Span);
        });
    }

    // The reference implementation's dtype order (its enum order), compared descending.
    private static int DTypeRank(SafeTensorDType d) => d switch
    {
        SafeTensorDType.BOOL => 0,
        SafeTensorDType.U8 => 1,
        SafeTensorDType.I8 => 2,
        SafeTensorDType.F16 => 7,
        SafeTensorDType.BF16 => 8,
        SafeTensorDType.I32 => 9,
        SafeTensorDType.F32 => 11,
        SafeTensorDType.I64 => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, "Unknown dtype."),
    };

    private static List<SafeTensorWriteEntry> Validate(IEnumerable<SafeTensorWriteEntry> tensors)
    {
        var list = new List<SafeTensorWriteEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t);
            if (t.Name == "__metadata__" || !names.Add(t.Name))
                throw new ArgumentException($"Tensor name '{t.Name}' is duplicated or reserved.", nameof(tensors));
            long count = 1;
            foreach (int d in t.Shape)
            {
                if (d < 0) throw new ArgumentException($"Tensor '{t.Name}' has negative dimension {d}.", nameof(tensors));
                count *= d;
            }
            long expected = count * SafeTensorDTypes.SizeOf(t.DType);
            if (t.Data.Length != expected)
                throw new ArgumentException(
                    $"Tensor '{t.Name}': {t.DType} [{string.Join(", ", t.Shape)}] needs {expected} bytes; got {t.Data.Length}.", nameof(tensors));
            list.Add(t);
        }
        list.Sort((a, b) =>
        {
            int c = DTypeRank(b.DType).CompareTo(DTypeRank(a.DType));
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        return list;
    }

    private static byte[] BuildHeader(List<SafeTensorWriteEntry> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in metadata) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in ordered)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.ToString());
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < pad; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
