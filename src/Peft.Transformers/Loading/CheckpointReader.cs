using System.Text.Json;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Loading;

/// <summary>
/// The weights of a model folder: <c>model.safetensors</c>, or the shards listed by
/// <c>model.safetensors.index.json</c>, read by Hugging Face parameter name. Files are
/// memory-mapped and stay open until disposed.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    /// <summary>Single-file checkpoint name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>Sharded checkpoint index name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafeTensorsFile> _files = [];
    private readonly Dictionary<string, SafeTensorsFile> _byName = new(StringComparer.Ordinal);

    private CheckpointReader(string folder) => Folder = folder;

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>Every parameter name in the checkpoint.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>Opens the checkpoint in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">Neither model.safetensors nor an index is present, or a listed shard is missing.</exception>
    /// <exception cref="InvalidDataException">The index is malformed or two shards hold the same name.</exception>
    public static CheckpointReader Open(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var reader = new CheckpointReader(folder);
        try
        {
            string single = Path.Combine(folder, SingleFileName);
            string index = Path.Combine(folder, IndexFileName);
            if (File.Exists(single)) reader.Add(SafeTensorsFile.Open(single));
            else if (File.Exists(index)) reader.OpenShards(index);
            else throw new FileNotFoundException($"No {SingleFileName} or {IndexFileName} in {folder}.", single);
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private void OpenShards(string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: no \"weight_map\" object.");
            weightMap = map.EnumerateObject().ToDictionary(p => p.Name,
                p => p.Value.ValueKind == JsonValueKind.String
                    ? p.Value.GetString()!
                    : throw new InvalidDataException($"{indexPath}: weight_map entry '{p.Name}' is not a file name."),
                StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{indexPath}: not valid JSON ({ex.Message}).", ex);
        }
        foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal))
        {
            if (shard.Contains('/') || shard.Contains('\\') || shard.Contains(".."))
                throw new InvalidDataException($"{indexPath}: shard name '{shard}' must be a file name in the model folder.");
            string path = Path.Combine(Folder, shard);
            if (!File.Exists(path)) throw new FileNotFoundException($"{indexPath} lists shard {shard}, which is missing.", path);
            Add(SafeTensorsFile.Open(path));
        }
        foreach (var (name, shard) in weightMap)
            if (!_byName.ContainsKey(name))
                throw new InvalidDataException($"{indexPath} maps '{name}' to {shard}, which does not contain it.");
    }

    private void Add(SafeTensorsFile file)
    {
        _files.Add(file);
        foreach (string name in file.Tensors.Keys)
        {
            if (_byName.TryGetValue(name, out var other))
                throw new InvalidDataException($"Tensor '{name}' appears in both {other.Path} and {file.Path}.");
            _byName[name] = file;
        }
    }

    /// <summary>True when the checkpoint holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The entry of <paramref name="name"/>.</summary>
    public SafeTensorInfo GetInfo(string name) => FileOf(name).GetInfo(name);

    /// <summary>Reads a floating-point tensor as float32 into <paramref name="destination"/>.</summary>
    public void ReadFloat32(string name, Span<float> destination) => FileOf(name).ReadFloat32(name, destination);

    /// <summary>The raw bytes of a tensor as stored (little-endian), for integer and quantized data.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => FileOf(name).GetBytes(name);

    private SafeTensorsFile FileOf(string name) =>
        _byName.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"The checkpoint in {Folder} has no tensor named '{name}'.");

    /// <summary>Closes every file.</summary>
    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
