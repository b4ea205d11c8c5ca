using Peft.Tensors;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Ia3;

/// <summary>An IA3 adapter on every targeted linear layer, in HF PEFT's files (keys <c>base_model.model.&lt;module&gt;.ia3_l</c>).</summary>
public sealed class Ia3Adapter : IWeightAdapter
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<Ia3Config>("IA3",
        (config, model, _, _) => Attach(model.LinearLayers, config),
        (folder, model, warn) => Load(folder, model.LinearLayers, warn));

    private readonly List<Ia3Layer> _layers = [];

    private Ia3Adapter(Ia3Config config) => Config = config;

    /// <summary>The settings.</summary>
    public Ia3Config Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <summary>Whether the adapter takes part in forward passes.</summary>
    public bool IsActive
    {
        get => _layers.Count > 0 && _layers[0].IsActive;
        set { foreach (var l in _layers) l.IsActive = value; }
    }

    /// <summary>IA3 has no dropout; kept for the common adapter interface.</summary>
    public bool Training { get; set; }

    /// <summary>One layer per targeted linear layer.</summary>
    public IReadOnlyList<Ia3Layer> Layers => _layers;

    /// <inheritdoc/>
    public bool Wraps(string modulePath) => _layers.Any(l => l.Target.Name == modulePath);

    /// <summary>The trainable vectors.</summary>
    public IEnumerable<Tensor> Parameters => _layers.Select(l => l.Scale);

    /// <summary>Creates a fresh adapter (all ones: outputs unchanged) on the targeted layers.</summary>
    /// <exception cref="AdapterConfigException">No layer matches, or a feed-forward module is not a target.</exception>
    public static Ia3Adapter Attach(IReadOnlyList<LinearLayer> linearLayers, Ia3Config config)
    {
        ArgumentNullException.ThrowIfNull(linearLayers);
        ArgumentNullException.ThrowIfNull(config);
        // Every layer is checked before any is touched: a config rejected half-way left the layers before it attached to
        // the (shared) base, and the next PeftModel over it refused the base (afl, adapter target).
        var targets = new List<(LinearLayer Layer, bool Feedforward)>();
        foreach (var layer in linearLayers)
        {
            bool target = config.TargetModules.Matches(layer.Name);
            bool feedforward = config.FeedforwardModules.Matches(layer.Name);
            if (feedforward && !target)
                throw new AdapterConfigException($"IA3 config: 'feedforward_modules' matches '{layer.Name}', which 'target_modules' does not; " +
                    "feedforward modules must be a subset of the targets.");
            if (target) targets.Add((layer, feedforward));
        }
        if (targets.Count == 0)
            throw new AdapterConfigException($"IA3 config: 'target_modules' matches no linear layer of the model; " +
                $"its layers are named like {string.Join(", ", linearLayers.Take(8).Select(l => l.Name))}.");
        var adapter = new Ia3Adapter(config);
        foreach (var (layer, feedforward) in targets)
        {
            var ia3 = new Ia3Layer(layer, feedforward);
            layer.AddAdapter(ia3);
            adapter._layers.Add(ia3);
        }
        return adapter;
    }

    /// <summary>Loads adapter_config.json + adapter_model.safetensors and attaches the adapter.</summary>
    public static Ia3Adapter Load(string folder, IReadOnlyList<LinearLayer> linearLayers, Action<string>? warn = null)
    {
        Ia3Config config;
        using (var doc = AdapterFiles.ReadConfig(folder, "IA3"))
            config = Ia3Config.FromJson(doc.RootElement, warn);
        var adapter = Attach(linearLayers, config);
        AdapterFiles.ReadWeightsOrDetach(folder, adapter.Parameters, adapter.Detach);
        return adapter;
    }

    /// <summary>The config and the scaling vectors under PEFT's keys.</summary>
    public AdapterFileContents FileContents() => new(Config.ToJson(), [.. Parameters]);

    /// <summary>True when every layer's scaling is folded into its base weight.</summary>
    public bool IsMerged => MergeableLayers.AllMerged(_layers);

    /// <summary>Folds the scaling into the base weights (outputs unchanged up to rounding, no extra products).</summary>
    public void Merge() => MergeableLayers.Merge(_layers);

    /// <summary>Takes the scaling back out of the base weights.</summary>
    public void Unmerge() => MergeableLayers.Unmerge(_layers);

    /// <summary>Merges (if not yet merged) and removes the adapter, leaving its scaling in the base weights.</summary>
    public void MergeAndUnload() => MergeableLayers.MergeAndUnload(_layers);

    /// <summary>Removes the adapter from every layer it was attached to, unmerging first where merged.</summary>
    public void Detach() => MergeableLayers.Detach(_layers);
}
