using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;

namespace Peft.Cli.Commands;

/// <summary>Edits to a saved adapter_config.json the engine leaves to the caller.</summary>
internal static class AdapterConfigFile
{
    /// <summary>Records the base model folder as HF PEFT's <c>base_model_name_or_path</c> (what inspect shows and checks).</summary>
    public static void SetBaseModel(string adapterFolder, string modelFolder)
    {
        string path = Path.Combine(adapterFolder, AdapterFiles.ConfigFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["base_model_name_or_path"] = Path.GetFullPath(modelFolder).TrimEnd(Path.DirectorySeparatorChar);
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
