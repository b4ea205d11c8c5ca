using System.Text.Json;
using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>Creates an adapter of any method on a base model, fresh from a config or from an HF PEFT folder.</summary>
public static class AdapterFactory
{
    /// <summary>The peft_type values this version reads and writes.</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = PeftMethods.All.Select(m => m.PeftType).ToArray();

    /// <summary>A fresh, trainable adapter for <paramref name="model"/> (weight adapters are attached to its layers).</summary>
    /// <param name="config">The method's settings.</param>
    /// <param name="model">The base model.</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer, needed only for TEXT initialization.</param>
    /// <exception cref="AdapterConfigException">The config does not fit the model (its task_type included).</exception>
    public static IPeftAdapter Create(IPeftConfig config, ILanguageModel model, ulong seed = 0, Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        var method = PeftMethods.ForConfig(config)
            ?? throw new AdapterConfigException($"peft_type '{config.PeftType}' ({config.GetType().Name}) is not supported; " +
                $"supported: {string.Join(", ", SupportedTypes)}.");
        PeftTaskTypes.CheckMatches(config, model);
        return method.Create(config, model, seed, tokenize);
    }

    /// <summary>Loads an HF PEFT adapter folder for <paramref name="model"/> (weight adapters are attached to its layers).</summary>
    /// <param name="folder">Folder with adapter_config.json and adapter_model.safetensors.</param>
    /// <param name="model">The base model.</param>
    /// <param name="warn">Receives warnings (unknown config fields).</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="AdapterConfigException">Unknown peft_type, a task_type of another kind of model, or a config that does not fit the model.</exception>
    /// <exception cref="InvalidDataException">Missing, unexpected or wrongly shaped tensors.</exception>
    public static IPeftAdapter Load(string folder, ILanguageModel model, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (type, task) = ReadHeader(folder);
        string path = Path.Combine(folder, AdapterFiles.ConfigFileName);
        var method = PeftMethods.ForPeftType(type)
            ?? throw new AdapterConfigException($"{path}: peft_type '{type}' is not supported; supported: {string.Join(", ", SupportedTypes)}.");
        // Checked before the method attaches anything to the model.
        if (task is ModelTask t && t != model.TaskType)
            throw new AdapterConfigException($"{path}: task_type is {PeftTaskTypes.Describe(t)} " +
                $"but the base model is {PeftTaskTypes.Describe(model.TaskType)}; " +
                "load the adapter on a base of its kind.");
        return method.Load(folder, model, warn);
    }

    /// <summary>The peft_type written in a folder's adapter_config.json.</summary>
    public static string PeekType(string folder) => ReadHeader(folder).PeftType;

    /// <summary>The peft_type ("" when absent) and task_type (null when absent) of a folder's adapter_config.json.</summary>
    private static (string PeftType, ModelTask? TaskType) ReadHeader(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, AdapterFiles.ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {AdapterFiles.ConfigFileName} in {folder}.", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ("", null);
            try
            {
                return (ConfigFields.String(root, "peft_type") ?? "", ConfigFields.TaskType(root));
            }
            catch (AdapterConfigException ex)
            {
                throw new AdapterConfigException($"{path}: {ex.Message}");
            }
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{path}: not valid JSON ({ex.Message}).");
        }
    }
}
