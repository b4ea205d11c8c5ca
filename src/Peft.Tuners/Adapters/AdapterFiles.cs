using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.SafeTensors;

namespace Peft.Tuners.Adapters;

/// <summary>
/// HF PEFT's adapter folder: adapter_config.json (with <c>peft_type</c>) and
/// adapter_model.safetensors (named tensors, no adapter name in the keys). Reads check every
/// name and shape; writes are atomic.
/// </summary>
public static class AdapterFiles
{
    /// <summary>The config file name.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The weights file name.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>Reads adapter_config.json, checking that its peft_type is <paramref name="expectedType"/>.</summary>
    public static JsonDocument ReadConfig(string folder, string expectedType)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {ConfigFileName} in {folder}.", path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{path}: not valid JSON ({ex.Message}).");
        }
        string type = doc.RootElement.TryGetProperty("peft_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type != expectedType)
        {
            doc.Dispose();
            throw new AdapterConfigException($"{path}: peft_type is '{type}', expected {expectedType}.");
        }
        return doc;
    }

    /// <summary>
    /// Fills each tensor from the weights file by its <see cref="Tensor.Name"/>; every tensor must
    /// be present with the same shape, and the file may hold nothing else.
    /// </summary>
    public static void ReadWeights(string folder, IEnumerable<Tensor> tensors)
    {
        string path = Path.Combine(folder, WeightsFileName);
        using var file = SafeTensorsFile.Open(path);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            string key = t.Name ?? throw new ArgumentException("Adapter tensors must be named by their file keys.", nameof(tensors));
            if (!file.Contains(key)) throw new InvalidDataException($"{path}: missing tensor '{key}'.");
            var info = file.GetInfo(key);
            if (!info.Shape.AsSpan().SequenceEqual(t.Shape.ToArray()))
                throw new InvalidDataException($"{path}: tensor '{key}' has shape {info.ShapeText} but this model and config need {t.Shape} (does the adapter belong to this base model?).");
            file.ReadFloat32(key, t.Span);
            used.Add(key);
        }
        var extra = file.Tensors.Keys.Where(k => !used.Contains(k)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{path}: tensors for modules this model does not have: {string.Join(", ", extra.Take(5))} (does the adapter belong to this base model?).");
    }

    /// <summary>
    /// <see cref="ReadWeights"/> for an adapter already attached to a model: on any failure the
    /// adapter is detached again, so a bad file leaves the model as it was.
    /// </summary>
    public static void ReadWeightsOrDetach(string folder, IEnumerable<Tensor> tensors, Action detach)
    {
        ArgumentNullException.ThrowIfNull(detach);
        try
        {
            ReadWeights(folder, tensors);
        }
        catch
        {
            detach();
            throw;
        }
    }

    /// <summary>Writes the config and the named tensors (float32) to <paramref name="folder"/>.</summary>
    public static void Write(string folder, JsonObject config, IEnumerable<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFileName),
            tensors.Select(p => new SafeTensorWriteEntry(p.Name!, SafeTensorDType.F32, p.Shape.ToArray(), MemoryMarshal.AsBytes(p.Span).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        string configPath = Path.Combine(folder, ConfigFileName);
        string temp = configPath + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, configPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }
}
