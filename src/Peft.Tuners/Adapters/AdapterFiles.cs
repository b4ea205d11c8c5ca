using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Modules;
using Peft.Transformers.SafeTensors;

namespace Peft.Tuners.Adapters;

/// <summary>
/// HF PEFT's adapter folder: adapter_config.json (with <c>peft_type</c>) and
/// adapter_model.safetensors (named tensors, no adapter name in the keys). Reads check every
/// name and shape; each file is written atomically and flushed to disk (<see cref="AtomicFile"/>).
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
        // A folder written by AtomicFolder (peft train's output) may be only moved aside by a killed write.
        AtomicFolder.Recover(folder);
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
                throw new InvalidDataException($"{path}: tensor '{key}' has shape {info.ShapeText} but this model and config need {t.Shape} " +
                    "(does the adapter belong to this base model?).");
            file.ReadFloat32(key, t.Span);
            used.Add(key);
        }
        // Modules saved with the adapter (a classification head, modules_to_save copies) belong to the PeftModel, which reads them.
        var (modulesToSave, bias) = SavedWithAdapterIn(folder);
        var extra = file.Tensors.Keys.Where(k => !used.Contains(k) && !IsModuleToSaveKey(k, modulesToSave) && !IsTrainedBiasKey(k, bias)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{path}: tensors for modules this model does not have: {string.Join(", ", extra.Take(5))} " +
                "(does the adapter belong to this base model?).");
    }

    /// <summary>The folder config's modules_to_save list (or null), and its LoRA <c>bias</c> mode (null when absent).</summary>
    private static (IReadOnlyList<string>? Modules, string? Bias) SavedWithAdapterIn(string folder)
    {
        string path = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(path)) return (null, null);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, null);
        return (ConfigFields.ModulesToSave(doc.RootElement, "adapter"), ConfigFields.String(doc.RootElement, "bias"));
    }

    /// <summary>
    /// A base parameter LoRA's <c>bias</c> mode trains and saves with the adapter (the PeftModel reads
    /// it): "lora_only" the biases of the wrapped layers; "all" every parameter whose name contains
    /// "bias", as PEFT selects them, which takes in T5's relative_attention_bias.weight too.
    /// </summary>
    private static bool IsTrainedBiasKey(string key, string? bias) => bias switch
    {
        "all" => key.Contains("bias", StringComparison.Ordinal),
        "lora_only" => key.EndsWith(".bias", StringComparison.Ordinal),
        _ => false,
    };

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

    /// <summary>Module names whose copies HF PEFT saves with a sequence-classification adapter (<c>modules_to_save</c>).</summary>
    public static IReadOnlyList<string> ClassificationModules { get; } = ["score", "classifier"];

    /// <summary>True for a key of a classification head saved with the adapter, e.g. <c>base_model.model.score.weight</c>.</summary>
    public static bool IsModuleToSaveKey(string key) => IsModuleToSaveKey(key, null);

    /// <summary>
    /// True for a key of a module saved with the adapter: a classification head, or a parameter of a
    /// module in <paramref name="modulesToSave"/> (its path equal to the name or ending in "." + name).
    /// </summary>
    public static bool IsModuleToSaveKey(string key, IReadOnlyList<string>? modulesToSave)
    {
        ArgumentNullException.ThrowIfNull(key);
        string path = key.StartsWith("base_model.model.", StringComparison.Ordinal) ? key["base_model.model.".Length..]
            : key.StartsWith("base_model.", StringComparison.Ordinal) ? key["base_model.".Length..] : key;
        if (ClassificationModules.Any(m => path.StartsWith(m + ".", StringComparison.Ordinal))) return true;
        string module = ModuleNames.ModulePath(path);
        return modulesToSave is not null && modulesToSave.Any(m => ModuleNames.Matches(module, m));
    }

    /// <summary>Writes the config and the named tensors (float32) to <paramref name="folder"/>.</summary>
    public static void Write(string folder, JsonObject config, IEnumerable<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFileName),
            tensors.Select(p => new SafeTensorWriteEntry(p.Name!, SafeTensorDType.F32, p.Shape.ToArray(), MemoryMarshal.AsBytes(p.Span).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
