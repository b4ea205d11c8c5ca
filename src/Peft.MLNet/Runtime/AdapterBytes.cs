using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.MLNet.Runtime;

/// <summary>An adapter's HF PEFT folder as bytes and back, through a scratch folder that is always removed.</summary>
internal static class AdapterBytes
{
    /// <summary>adapter_config.json's text and adapter_model.safetensors' bytes of adapter <paramref name="name"/>.</summary>
    public static (string ConfigJson, byte[] Weights) Read(PeftModel model, string name)
    {
        string folder = ScratchFolder();
        try
        {
            model.SaveAdapter(name, folder);
            return (File.ReadAllText(Path.Combine(folder, AdapterFiles.ConfigFileName)), File.ReadAllBytes(Path.Combine(folder, AdapterFiles.WeightsFileName)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Loads the adapter those bytes describe into <paramref name="model"/> as <paramref name="name"/> (frozen).</summary>
    public static void Load(PeftModel model, string name, string configJson, byte[] weights)
    {
        string folder = ScratchFolder();
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, AdapterFiles.ConfigFileName), configJson);
            File.WriteAllBytes(Path.Combine(folder, AdapterFiles.WeightsFileName), weights);
            model.LoadAdapter(folder, name);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static string ScratchFolder() => Path.Combine(Path.GetTempPath(), $"peft-mlnet-{Guid.NewGuid():N}");
}
