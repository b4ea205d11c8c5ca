using Peft.Tensors;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Lora;

/// <summary>
/// A LoRA adapter attached to every targeted linear layer of a model, saved and loaded in HF
/// PEFT's files: adapter_config.json and adapter_model.safetensors with keys
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> / <c>lora_B.weight</c>.
/// </summary>
public sealed class LoraAdapter : IWeightAdapter
{
    private readonly List<LoraLayer> _layers = [];

    private LoraAdapter(LoraConfig config) => Config = config;

    /// <summary>The settings.</summary>
    public LoraConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <summary>One LoRA layer per targeted linear layer, in model order.</summary>
    public IReadOnlyList<LoraLayer> Layers => _layers;

    /// <summary>Every trainable tensor (A and B of each layer), named by their file keys.</summary>
    public IEnumerable<Tensor> Parameters => _layers.SelectMany(l => new[] { l.A, l.B });

    /// <summary>Whether the adapter takes part in forward passes.</summary>
    public bool IsActive
    {
        get => _layers.Count > 0 && _layers[0].IsActive;
        set { foreach (var l in _layers) l.IsActive = value; }
    }

    /// <summary>Switches dropout on (training) or off.</summary>
    public bool Training
    {
        get => _layers.Count > 0 && _layers[0].Training;
        set { foreach (var l in _layers) l.Training = value; }
    }

    /// <summary>
    /// Creates a fresh adapter (B = 0, so outputs start unchanged) on the layers that
    /// <see cref="LoraConfig.TargetModules"/> selects.
    /// </summary>
    /// <exception cref="AdapterConfigException">No layer matches the targets.</exception>
    public static LoraAdapter Attach(IReadOnlyList<LinearLayer> linearLayers, LoraConfig config, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(linearLayers);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var adapter = new LoraAdapter(config);
        var random = new SeededRandom(seed);
        foreach (var layer in linearLayers)
        {
            if (!config.TargetModules.Matches(layer.Name)) continue;
            var lora = new LoraLayer(layer, config, random);
            layer.AddAdapter(lora);
            adapter._layers.Add(lora);
        }
        if (adapter._layers.Count == 0)
        {
            string wanted = config.TargetModules.Pattern ?? string.Join(", ", config.TargetModules.Names);
            string examples = string.Join(", ", linearLayers.Take(8).Select(l => l.Name));
            throw new AdapterConfigException($"LoRA config: 'target_modules' ({wanted}) matches no linear layer of the model; its layers are named like {examples}.");
        }
        return adapter;
    }

    /// <summary>Reads adapter_config.json and adapter_model.safetensors from <paramref name="folder"/> and attaches the adapter.</summary>
    public static LoraAdapter Load(string folder, IReadOnlyList<LinearLayer> linearLayers, Action<string>? warn = null)
    {
        LoraConfig config;
        using (var doc = AdapterFiles.ReadConfig(folder, "LORA"))
            config = LoraConfig.FromJson(doc.RootElement, warn);
        var adapter = Attach(linearLayers, config);
        AdapterFiles.ReadWeightsOrDetach(folder, adapter.Parameters, adapter.Detach);
        return adapter;
    }

    /// <summary>Writes adapter_config.json and adapter_model.safetensors (each atomically) to <paramref name="folder"/>.</summary>
    public void Save(string folder) => AdapterFiles.Write(folder, Config.ToJson(), Parameters);

    /// <summary>Removes the adapter from every layer it was attached to.</summary>
    public void Detach()
    {
        foreach (var l in _layers) l.Target.RemoveAdapter(l);
        _layers.Clear();
    }
}
