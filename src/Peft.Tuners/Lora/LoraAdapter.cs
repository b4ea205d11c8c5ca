using Peft.Tensors;
using Peft.Transformers.Models;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Lora;

/// <summary>
/// A LoRA adapter attached to every targeted linear layer of a model, saved and loaded in HF
/// PEFT's files: adapter_config.json and adapter_model.safetensors with keys
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> / <c>lora_B.weight</c>.
/// </summary>
public sealed class LoraAdapter : IWeightAdapter, ITrainsBaseParameters, IHasDropout
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<LoraConfig>("LORA",
        (config, model, seed, _) => Attach(model.LinearLayers, config, seed),
        (folder, model, warn) => Load(folder, model.LinearLayers, warn));

    private readonly List<LoraLayer> _layers = [];

    private LoraAdapter(LoraConfig config) => Config = config;

    /// <summary>The settings.</summary>
    public LoraConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <summary>One LoRA layer per targeted linear layer, in model order.</summary>
    public IReadOnlyList<LoraLayer> Layers => _layers;

    /// <inheritdoc/>
    public bool Wraps(string modulePath) => _layers.Any(l => l.Target.Name == modulePath);

    /// <summary>Each layer's dropout generator, in model order.</summary>
    public IEnumerable<SeededRandom> DropoutGenerators => _layers.Select(l => l.DropoutRandom);

    /// <summary>
    /// The base biases PEFT's <c>bias</c> trains: "all" every parameter named like a bias (as PEFT
    /// selects them), "lora_only" the biases of this adapter's layers, "none" none.
    /// </summary>
    public IEnumerable<ModelParameter> TrainedBaseParameters(ILanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Config.Bias == LoraBias.None) return [];
        if (Config.Bias == LoraBias.All) return model.Parameters.All.Where(p => p.Name.Contains("bias", StringComparison.Ordinal));
        var layerBiases = _layers.Select(l => l.Target.Bias).OfType<Tensor>().ToHashSet();
        return model.Parameters.All.Where(p => layerBiases.Contains(p.Tensor));
    }

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
        try
        {
            foreach (var layer in linearLayers)
            {
                if (!config.TargetModules.Matches(layer.Name)) continue;
                var lora = new LoraLayer(layer, config, random);
                layer.AddAdapter(lora);
                adapter._layers.Add(lora);
            }
        }
        catch
        {
            // A layer that cannot take the adapter leaves none attached (the base is shared).
            adapter.Detach();
            throw;
        }
        if (adapter._layers.Count == 0)
        {
            string wanted = config.TargetModules.Pattern ?? string.Join(", ", config.TargetModules.Names);
            string examples = string.Join(", ", linearLayers.Take(8).Select(l => l.Name));
            throw new AdapterConfigException($"LoRA config: 'target_modules' ({wanted}) matches no linear layer of the model; " +
                $"its layers are named like {examples}.");
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

    /// <summary>The config and the A/B matrices under PEFT's keys.</summary>
    public AdapterFileContents FileContents() => new(Config.ToJson(), [.. Parameters]);

    /// <summary>True when every layer's update is folded into its base weight.</summary>
    public bool IsMerged => MergeableLayers.AllMerged(_layers);

    /// <summary>Folds the update into the base weights (outputs unchanged up to rounding, no extra products).</summary>
    public void Merge() => MergeableLayers.Merge(_layers);

    /// <summary>Takes the update back out of the base weights.</summary>
    public void Unmerge() => MergeableLayers.Unmerge(_layers);

    /// <summary>Merges (if not yet merged) and removes the adapter, leaving its update in the base weights.</summary>
    public void MergeAndUnload() => MergeableLayers.MergeAndUnload(_layers);

    /// <summary>Removes the adapter from every layer it was attached to, unmerging first where merged.</summary>
    public void Detach() => MergeableLayers.Detach(_layers);

    /// <summary>
    /// A new adapter whose update is Σ wᵢ·ΔWᵢ exactly (PEFT's "cat" combination): the ranks are
    /// concatenated, A blocks copied and B blocks scaled by wᵢ·sᵢ/s, where s is the first adapter's
    /// scaling (so a single adapter with weight 1 is reproduced bit for bit). It targets every layer
    /// any source targets (zero blocks where a source is absent), is attached to
    /// <paramref name="linearLayers"/>, and saves as an ordinary LoRA adapter.
    /// </summary>
    /// <exception cref="ArgumentException">No sources, or a weight that is not finite.</exception>
    public static LoraAdapter Combine(IReadOnlyList<(LoraAdapter Adapter, float Weight)> sources, IReadOnlyList<LinearLayer> linearLayers)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(linearLayers);
        if (sources.Count == 0) throw new ArgumentException("Combining LoRA adapters needs at least one source.", nameof(sources));
        foreach (var (adapter, weight) in sources)
        {
            ArgumentNullException.ThrowIfNull(adapter);
            if (!float.IsFinite(weight)) throw new ArgumentException($"Combination weights must be finite; got {weight}.", nameof(sources));
        }
        var first = sources[0].Adapter.Config;
        int rank = sources.Sum(s => s.Adapter.Config.R);
        float alpha = first.UseRsLora ? first.LoraAlpha * MathF.Sqrt((float)rank / first.R) : first.LoraAlpha * rank / first.R;
        var targets = linearLayers.Where(layer => sources.Any(s => s.Adapter._layers.Any(l => ReferenceEquals(l.Target, layer)))).Select(l => l.Name).ToArray();
        var config = first with { R = rank, LoraAlpha = alpha, TargetModules = TargetModules.FromNames(targets) };
        var combined = Attach(linearLayers, config);
        float scaling = config.Scaling;
        foreach (var layer in combined._layers)
        {
            int inF = layer.Target.InFeatures, outF = layer.Target.OutFeatures, offset = 0;
            layer.A.Span.Clear();
            layer.B.Span.Clear();
            foreach (var (adapter, weight) in sources)
            {
                int r = adapter.Config.R;
                var source = adapter._layers.FirstOrDefault(l => ReferenceEquals(l.Target, layer.Target));
                if (source is not null)
                {
                    source.A.Span.CopyTo(layer.A.Span.Slice(offset * inF, r * inF));
                    float factor = weight * source.Scaling / scaling;
                    for (int o = 0; o < outF; o++)
                        for (int k = 0; k < r; k++) layer.B.Span[o * rank + offset + k] = factor * source.B.Span[o * r + k];
                }
                offset += r;
            }
        }
        return combined;
    }
}
