using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Benchmarks.Shared;

/// <summary>A gpt2-small model folder with random weights (seed 1), the base several benchmarks read (linked source).</summary>
internal static class Gpt2SmallFolder
{
    /// <summary>Writes the folder unless it already holds a model.safetensors; true when it wrote one.</summary>
    public static bool Ensure(string folder)
    {
        if (File.Exists(Path.Combine(folder, "model.safetensors"))) return false;
        var config = ModelConfig.Parse(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = 12, ["n_head"] = 12, ["n_positions"] = 1024,
        }.ToJsonString(), "gpt2-small benchmark config");
        var model = ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, 1);
        ModelLoader.Save(model, folder);
        return true;
    }
}
