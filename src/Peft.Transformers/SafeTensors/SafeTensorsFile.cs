using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Peft.Transformers.SafeTensors;

/// <summary>
/// A safetensors file opened for reading. The file is memory-mapped, so tensors are read (and
/// converted to float32) straight from the page cache without a second copy of the file. Every
/// header field is validated when the file is opened; a truncated or corrupt file fails with a
/// <see cref="SafeTensorsFormatException"/> that says what is wrong.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;
    private readonly byte* _base;
    private readonly byte[]? _bytes;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;
    private bool _disposed;

    private SafeTensorsFile(string path, byte[]? bytes, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePointer, long length,
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null)
    {
        Path = path;
        _bytes = bytes;
        _map = map;
        _view = view;
        _handle = handle;
        _base = basePointer;
        try
        {
            (_tensors, Metadata, _dataStart) = ParseHeader(path, Bytes(0, (int)Math.Min(length, 8 + MaxHeaderBytes)), length);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The file path (or a label for in-memory data).</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor entry, by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => _tensors;

    /// <summary>Opens and validates a file, memory-mapping it.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is truncated or corrupt.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // The target's size: a hub-cache folder's files are links into its blob store.
        var info = Loading.ResolvedFile.Info(path);
        if (!info.Exists) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        long length = info.Length;
        if (length < 8)
            throw new SafeTensorsFormatException(path, $"file is {length} bytes, shorter than the 8-byte header length prefix.");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            // Float weights are read with positioned reads straight into their destination: copying
            // them out of the mapping would also count every touched page in the process's memory,
            // doubling the peak of a load. The mapping serves the header and raw byte views.
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new SafeTensorsFile(path, null, map, view, p, length, handle);
        }
        catch
        {
            handle?.Dispose();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Parses a safetensors image held in memory (<paramref name="label"/> names it in errors).</summary>
    public static SafeTensorsFile FromBytes(byte[] bytes, string label = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8)
            throw new SafeTensorsFormatException(label, $"data is {bytes.Length} bytes, shorter than the 8-byte header length prefix.");
        return new SafeTensorsFile(label, bytes, null, null, null, bytes.Length);
    }

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The entry of tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor (the message names the file).</exception>
    public SafeTensorInfo GetInfo(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <summary>The raw bytes of a tensor as stored (little-endian).</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = GetInfo(name);
        return Bytes(_dataStart + info.DataOffset, checked((int)info.ByteLength));
    }

    /// <summary>Reads a floating-point tensor (F32, F16 or BF16) converted to float32 into <paramref name="destination"/>.</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        var info = GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException(
                $"{Path}: tensor '{name}' has {info.ElementCount} elements {info.ShapeText}; destination has {destination.Length}.", nameof(destination));
        if (_handle is not null)
        {
            ReadFromFile(info, name, destination);
            return;
        }
        var src = GetBytes(name);
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(destination);
                break;
            case SafeTensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(src);
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(halves, destination);
                break;
            case SafeTensorDType.BF16:
                var raw = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < raw.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            default:
                throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {info.DType}, not a floating-point type (F32, F16, BF16).");
        }
    }

    /// <summary>ReadFloat32 from the file with positioned reads: F32 lands in place, F16/BF16 go through a small buffer.</summary>
    private void ReadFromFile(SafeTensorInfo info, string name, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long offset = _dataStart + info.DataOffset;
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                ReadExactly(MemoryMarshal.AsBytes(destination), offset);
                return;
            case SafeTensorDType.F16:
            case SafeTensorDType.BF16:
                const int ChunkElements = 1 << 18;
                var buffer = new ushort[Math.Min(ChunkElements, destination.Length)];
                for (int done = 0; done < destination.Length; done += buffer.Length)
                {
                    int n = Math.Min(buffer.Length, destination.Length - done);
                    var chunk = buffer.AsSpan(0, n);
                    ReadExactly(MemoryMarshal.AsBytes(chunk), offset + 2L * done);
                    var target = destination.Slice(done, n);
                    if (info.DType == SafeTensorDType.F16)
                        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(chunk), target);
                    else
                        for (int i = 0; i < n; i++) target[i] = BitConverter.Int32BitsToSingle(chunk[i] << 16);
                }
                return;
            default:
                throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {info.DType}, not a floating-point type (F32, F16, BF16).");
        }
    }

    private void ReadExactly(Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle!, destination, offset);
            if (read <= 0) throw new SafeTensorsFormatException(Path, $"the file ended at byte {offset} while reading tensor data (truncated while open?).");
            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>Reads a floating-point tensor converted to float32.</summary>
    public float[] ReadFloat32(string name)
    {
        var result = new float[checked((int)GetInfo(name).ElementCount)];
        ReadFloat32(name, result);
        return result;
    }

    /// <summary>Reads an integer tensor (I64, I32, I8, U8, BOOL) as int32, failing if a value does not fit.</summary>
    public int[] ReadInt32(string name)
    {
        var info = GetInfo(name);
        var src = GetBytes(name);
        var result = new int[checked((int)info.ElementCount)];
        switch (info.DType)
        {
            case SafeTensorDType.I64:
                var longs = MemoryMarshal.Cast<byte, long>(src);
                for (int i = 0; i < longs.Length; i++)
                {
                    if (longs[i] is < int.MinValue or > int.MaxValue)
                        throw new InvalidDataException($"{Path}: tensor '{name}' element {i} is {longs[i]}, outside the int32 range.");
                    result[i] = (int)longs[i];
                }
                break;
            case SafeTensorDType.I32:
                MemoryMarshal.Cast<byte, int>(src).CopyTo(result);
                break;
            case SafeTensorDType.I8:
                for (int i = 0; i < src.Length; i++) result[i] = (sbyte)src[i];
                break;
            case SafeTensorDType.U8:
            case SafeTensorDType.BOOL:
                for (int i = 0; i < src.Length; i++) result[i] = src[i];
                break;
            default:
                throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {info.DType}, not an integer type.");
        }
        return result;
    }

    private ReadOnlySpan<byte> Bytes(long offset, int length) =>
        _bytes is not null ? _bytes.AsSpan(checked((int)offset), length) : new ReadOnlySpan<byte>(_base + offset, length);

    private static (Dictionary<string, SafeTensorInfo>, IReadOnlyDictionary<string, string>, long) ParseHeader(string path, ReadOnlySpan<byte> prefix,
        long fileLength)
    {
        ulong headerLength = BitConverter.ToUInt64(prefix[..8]);
        if (headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes (corrupt length prefix?).");
        if (8 + (long)headerLength > fileLength)
            throw new SafeTensorsFormatException(path, $"header length {headerLength} runs past the end of the {fileLength}-byte file (truncated?).");
        var header = prefix.Slice(8, (int)headerLength);
        // The JSON reader checks structure, not the bytes inside strings: names are read later and would fail there.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new SafeTensorsFormatException(path, "header is not valid UTF-8 (corrupt file?).");
        long dataLength = fileLength - 8 - (long)headerLength;

        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(header.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(path, "header is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new SafeTensorsFormatException(path, "__metadata__ is not an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! :
                            throw new SafeTensorsFormatException(path, $"__metadata__ value '{m.Name}' is not a string.");
                    continue;
                }
                tensors[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
            }
        }
        catch (JsonException ex)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON ({ex.Message}).");
        }

        // Ranges must not overlap: a corrupt header could otherwise alias two tensors.
        var ordered = tensors.Values.Where(t => t.ByteLength > 0).OrderBy(t => t.DataOffset).ToArray();
        for (int i = 1; i < ordered.Length; i++)
        {
            var prev = ordered[i - 1];
            if (ordered[i].DataOffset < prev.DataOffset + prev.ByteLength)
                throw new SafeTensorsFormatException(path, $"tensors '{prev.Name}' and '{ordered[i].Name}' have overlapping data ranges.");
        }
        return (tensors, metadata, 8 + (long)headerLength);
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"entry '{name}' is not an object.");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException(path, $"entry '{name}' has no dtype string.");
        if (!SafeTensorDTypes.TryParse(dt.GetString()!, out var dtype))
            throw new SafeTensorsFormatException(path,
                $"entry '{name}' has unsupported dtype '{dt.GetString()}'; supported: {string.Join(", ", Enum.GetNames<SafeTensorDType>())}.");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(path, $"entry '{name}' has no shape array.");
        var shape = new int[sh.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int v) || v < 0)
                throw new SafeTensorsFormatException(path, $"entry '{name}' has an invalid shape dimension {d}.");
            shape[i++] = v;
            count *= v;
            if (count > int.MaxValue)
                throw new SafeTensorsFormatException(path, $"entry '{name}' has more than {int.MaxValue} elements.");
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new SafeTensorsFormatException(path, $"entry '{name}' has no [begin, end] data_offsets.");
        // TryGetInt64 throws on a value that is not a number at all, so the kind comes first.
        if (off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
            || !off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new SafeTensorsFormatException(path, $"entry '{name}' has invalid data_offsets {off}.");
        if (end > dataLength)
            throw new SafeTensorsFormatException(path, $"entry '{name}' data_offsets end {end} is past the {dataLength}-byte data section (truncated file?).");
        long expected = count * SafeTensorDTypes.SizeOf(dtype);
        if (end - begin != expected)
            throw new SafeTensorsFormatException(path, $"entry '{name}' spans {end - begin} bytes but {dtype} {ShapeText(shape)} needs {expected}.");
        return new SafeTensorInfo(name, dtype, shape, begin, end - begin);
    }

    private static string ShapeText(int[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        _handle?.Dispose();
    }
}
