using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models.Gpt2;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Models;

/// <summary>Loads and saves decoder-only models in Hugging Face's folder layout.</summary>
public static class CausalModelLoader
{
    /// <summary>
    /// Reads config.json and the safetensors weights of <paramref name="folder"/> into a frozen
    /// model (no parameter requires gradients).
    /// </summary>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing.</exception>
    /// <exception cref="ModelConfigException">The config is invalid or not a decoder-only family.</exception>
    /// <exception cref="InvalidDataException">A weight is missing, unexpected or wrongly shaped.</exception>
    public static CausalLanguageModel Load(string folder, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var config = ModelConfig.Load(folder);
        var model = Create(config);
        using var checkpoint = CheckpointReader.Open(folder);
        model.Parameters.Load(checkpoint, options ?? new LoadOptions(), name => IsIgnorable(config, name), Aliases(model));
        return model;
    }

    /// <summary>Builds a zero-weight model of the config's family.</summary>
    public static CausalLanguageModel Create(ModelConfig config) => config.Family switch
    {
        ModelFamily.Gpt2 => new Gpt2Model(config),
        ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Mistral => new Llama.LlamaModel(config),
        _ => throw new ModelConfigException(config.Source, "model_type", $"is '{config.ModelType}', which is not a decoder-only model supported here; use gpt2, llama, qwen2 or mistral."),
    };

    /// <summary>Writes config.json and model.safetensors (atomically each) to <paramref name="folder"/>.</summary>
    public static void Save(CausalLanguageModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        bool tied = model.Config.TieWordEmbeddings;
        SafeTensorsWriter.Write(Path.Combine(folder, CheckpointReader.SingleFileName),
            model.Parameters.ToEntries(name => tied && name == "lm_head.weight"),
            new Dictionary<string, string> { ["format"] = "pt" });
        WriteAtomically(Path.Combine(folder, "config.json"), model.Config.ToJson());
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    // Buffers some checkpoints carry that are not parameters.
    private static bool IsIgnorable(ModelConfig config, string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal) ||
        name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) ||
        (config.TieWordEmbeddings && name == "lm_head.weight");

    // GPT2Model checkpoints (no LM head) name parameters without the "transformer." prefix.
    private static Dictionary<string, string>? Aliases(CausalLanguageModel model) =>
        model.Config.Family == ModelFamily.Gpt2
            ? model.Parameters.All.Where(p => p.Name.StartsWith("transformer.", StringComparison.Ordinal)).ToDictionary(p => p.Name, p => p.Name["transformer.".Length..])
            : null;
}
