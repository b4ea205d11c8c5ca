namespace Peft.Tuners.Adapters;

/// <summary>Saving any adapter as HF PEFT's folder.</summary>
public static class PeftAdapterSaving
{
    /// <summary>Writes HF PEFT's adapter folder (adapter_config.json + adapter_model.safetensors), atomically per file.</summary>
    /// <param name="adapter">The adapter.</param>
    /// <param name="folder">The folder (created when missing).</param>
    public static void Save(this IPeftAdapter adapter, string folder)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        var contents = adapter.FileContents();
        AdapterFiles.Write(folder, contents.Config, contents.Tensors);
    }
}
