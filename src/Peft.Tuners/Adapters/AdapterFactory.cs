using System.Text.Json;
using Peft.Transformers.Models;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Adapters;

/// <summary>Creates an adapter of any method on a base model, fresh from a config or from an HF PEFT folder.</summary>
public static class AdapterFactory
{
    /// <summary>The peft_type values this version reads and writes.</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = ["LORA", "IA3", "PROMPT_TUNING", "P_TUNING", "MULTITASK_PROMPT_TUNING", "PREFIX_TUNING"];

    /// <summary>A fresh, trainable adapter for <paramref name="model"/> (weight adapters are attached to its layers).</summary>
    /// <param name="config">The method's settings.</param>
    /// <param name="model">The base model.</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer, needed only for TEXT initialization.</param>
    /// <exception cref="AdapterConfigException">The config does not fit the model.</exception>
    public static IPeftAdapter Create(IPeftConfig config, ILanguageModel model, ulong seed = 0, Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        return config switch
        {
            LoraConfig lora => LoraAdapter.Attach(model.LinearLayers, lora, seed),
            Ia3Config ia3 => Ia3Adapter.Attach(model.LinearLayers, ia3),
            PromptTuningConfig prompt => PromptTuningAdapter.Create(prompt, model.Config, model.TokenEmbeddings, seed, tokenize),
            PTuningConfig pTuning => PTuningAdapter.Create(pTuning, model.Config, seed),
            MultitaskPromptTuningConfig multitask => MultitaskPromptTuningAdapter.Create(multitask, model.Config, model.TokenEmbeddings, seed, tokenize),
            PrefixTuningConfig prefix => PrefixTuningAdapter.Create(prefix, model, seed, tokenize),
            _ => throw new AdapterConfigException($"peft_type '{config.PeftType}' is not supported; supported: {string.Join(", ", SupportedTypes)}."),
        };
    }

    /// <summary>Loads an HF PEFT adapter folder for <paramref name="model"/> (weight adapters are attached to its layers).</summary>
    /// <param name="folder">Folder with adapter_config.json and adapter_model.safetensors.</param>
    /// <param name="model">The base model.</param>
    /// <param name="warn">Receives warnings (unknown config fields).</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="AdapterConfigException">Unknown peft_type, or a config that does not fit the model.</exception>
    /// <exception cref="InvalidDataException">Missing, unexpected or wrongly shaped tensors.</exception>
    public static IPeftAdapter Load(string folder, ILanguageModel model, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        string type = PeekType(folder);
        return type switch
        {
            "LORA" => LoraAdapter.Load(folder, model.LinearLayers, warn),
            "IA3" => Ia3Adapter.Load(folder, model.LinearLayers, warn),
            "PROMPT_TUNING" => PromptTuningAdapter.Load(folder, model.Config, model.TokenEmbeddings, warn),
            "P_TUNING" => PTuningAdapter.Load(folder, model.Config, warn),
            "MULTITASK_PROMPT_TUNING" => MultitaskPromptTuningAdapter.Load(folder, model.Config, model.TokenEmbeddings, warn),
            "PREFIX_TUNING" => PrefixTuningAdapter.Load(folder, model.Config, warn),
            _ => throw new AdapterConfigException($"{Path.Combine(folder, AdapterFiles.ConfigFileName)}: peft_type '{type}' is not supported; supported: {string.Join(", ", SupportedTypes)}."),
        };
    }

    /// <summary>The peft_type written in a folder's adapter_config.json.</summary>
    public static string PeekType(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, AdapterFiles.ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {AdapterFiles.ConfigFileName} in {folder}.", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("peft_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{path}: not valid JSON ({ex.Message}).");
        }
    }
}
