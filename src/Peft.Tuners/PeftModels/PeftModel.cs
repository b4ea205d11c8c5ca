using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Classification;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Modules;
using Peft.Transformers.SafeTensors;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// A base model with named adapters of any PEFT method. Adapters are added fresh or loaded from
/// HF PEFT folders; one or several are active at once (prompt and prefix adapters stack in the
/// order given, weight adapters all apply), and they can be switched, disabled for a scope, and
/// deleted. Only the base model's own parameters are frozen; an adapter trains when it was added
/// fresh or loaded as trainable and is active.
/// </summary>
/// <remarks>
/// Inputs are explicit. Prompt adapters' virtual tokens enter through the input embeddings,
/// prefixes through the model's prefix argument, never through a cache; generation writes a
/// prefix into the cache once, so the cache always knows how much of it is prefix.
/// </remarks>
public sealed class PeftModel
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, IPeftAdapter> _adapters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _trainable = new(StringComparer.Ordinal);
    private readonly List<string> _active = [];
    private readonly Dictionary<string, Tensor> _heads = new(StringComparer.Ordinal);
    private readonly ModuleCopies _modules;
    private readonly TaskRunner _runner;
    private int _disabledScopes;
    private bool _enabled = true;
    private bool _training;

    /// <summary>
    /// Wraps <paramref name="baseModel"/> (a <see cref="CausalLanguageModel"/>, a <see cref="T5Model"/>
    /// or a <see cref="SequenceClassificationModel"/>) and freezes its parameters. On a classifier
    /// every adapter gets its own trainable copy of the classification head (HF PEFT's
    /// <c>modules_to_save</c>), saved with it.
    /// </summary>
    /// <exception cref="ArgumentException">A model of another kind.</exception>
    /// <exception cref="InvalidOperationException">The model already has weight adapters attached (another PeftModel over it).</exception>
    public PeftModel(ILanguageModel baseModel)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        _runner = TaskRunner.For(baseModel, () => ActiveHead);
        // Two PeftModels over one base would both wrap its layers and add their updates silently.
        if (baseModel.LinearLayers.FirstOrDefault(l => l.Adapters.Count > 0) is { } wrapped)
            throw new InvalidOperationException($"The base model already has weight adapters attached (e.g. on '{wrapped.Name}'), " +
                "probably by another PeftModel; delete them there (DeleteAdapter) or load a fresh base.");
        BaseModel = baseModel;
        baseModel.Parameters.SetRequiresGrad(false);
        if (Classifier is { } classifier) classifier.Score.RequiresGrad = false;
        _modules = new ModuleCopies(baseModel);
    }

    /// <summary>The base model.</summary>
    public ILanguageModel BaseModel { get; }

    /// <summary>What the base model is for; saved adapters carry it as HF PEFT's <c>task_type</c>.</summary>
    public ModelTask TaskType => BaseModel.TaskType;

    /// <summary>The base as a classifier (whose adapters keep their own heads), or null.</summary>
    private SequenceClassificationModel? Classifier => BaseModel as SequenceClassificationModel;

    /// <summary>Names of all adapters, in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => _names;

    /// <summary>Names of the active adapters, in stacking order.</summary>
    public IReadOnlyList<string> ActiveAdapters => _active;

    /// <summary>The adapter called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such adapter; the message lists the names there are.</exception>
    public IPeftAdapter this[string name] => Get(name);

    /// <summary>
    /// Whether adapters apply at all (false: the base model alone). <see cref="DisableAdapters"/>
    /// turns them off for a scope whatever this says.
    /// </summary>
    public bool AdaptersEnabled
    {
        get => _enabled && _disabledScopes == 0;
        set
        {
            _enabled = value;
            Refresh();
        }
    }

    /// <summary>
    /// Where virtual tokens go in left-padded rows of a decoder-only model and how positions count:
    /// HF PEFT's layout (default, so adapters move both ways) or next to each row's input, so a
    /// left-padded batch gives what each row gives alone. Applies to prompt and prefix adapters,
    /// in <see cref="Forward"/> and <see cref="Generate"/>.
    /// </summary>
    public VirtualTokenPlacement Placement { get; set; } = VirtualTokenPlacement.BeforePadding;

    /// <summary>Training mode (adapter dropout on) or inference mode.</summary>
    public bool Training
    {
        get => _training;
        set
        {
            _training = value;
            foreach (var adapter in _adapters.Values.OfType<IWeightAdapter>()) adapter.Training = value;
        }
    }

    /// <summary>
    /// Adds a fresh, trainable adapter and, when no adapter is active yet, activates it (as
    /// <c>get_peft_model</c> does); otherwise activate it with <see cref="SetAdapter"/> or <see cref="SetActiveAdapters"/>.
    /// </summary>
    /// <param name="name">A new adapter name.</param>
    /// <param name="config">The method's settings.</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer, needed only for TEXT initialization.</param>
    public IPeftAdapter AddAdapter(string name, IPeftConfig config, ulong seed = 0, Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        CheckNewName(name);
        var adapter = AdapterFactory.Create(config, BaseModel, seed, tokenize);
        Register(name, adapter, trainable: true);
        return adapter;
    }

    /// <summary>
    /// Loads an HF PEFT adapter folder under <paramref name="name"/>, frozen unless
    /// <paramref name="trainable"/> (then training continues from its weights); activates it
    /// when no adapter is active yet.
    /// </summary>
    /// <param name="folder">Folder with adapter_config.json and adapter_model.safetensors.</param>
    /// <param name="name">A new adapter name.</param>
    /// <param name="trainable">Whether its weights train (prompt encoders loaded from PEFT files have none).</param>
    /// <param name="warn">Receives warnings such as unknown config fields.</param>
    public IPeftAdapter LoadAdapter(string folder, string name, bool trainable = false, Action<string>? warn = null)
    {
        CheckNewName(name);
        string? headKey = HeadKeyIn(folder);
        if (headKey is not null && Classifier is null)
            throw new AdapterConfigException($"{folder}: the adapter carries a classification head ('{headKey}'); " +
                "load it on a PeftModel over a SequenceClassificationModel.");
        var adapter = AdapterFactory.Load(folder, BaseModel, warn);
        Register(name, adapter, trainable);
        if (headKey is not null)
        {
            using var file = SafeTensorsFile.Open(Path.Combine(folder, AdapterFiles.WeightsFileName));
            var head = _heads[name];
            var info = file.GetInfo(headKey);
            if (!info.Shape.AsSpan().SequenceEqual(head.Shape.ToArray()))
            {
                DeleteAdapter(name);
                throw new InvalidDataException($"{folder}: classification head '{headKey}' has shape {info.ShapeText} but this classifier's is {head.Shape}.");
            }
            file.ReadFloat32(headKey, head.Span);
            head.MarkModified();
        }
        if (_modules.Has(name))
        {
            try
            {
                ReadModuleCopies(folder, name, adapter);
            }
            catch
            {
                DeleteAdapter(name);
                throw;
            }
        }
        return adapter;
    }

    /// <summary>Fills an adapter's module copies from its file (keys as HF PEFT writes them, in the checkpoint layout).</summary>
    private void ReadModuleCopies(string folder, string name, IPeftAdapter adapter)
    {
        string path = Path.Combine(folder, AdapterFiles.WeightsFileName);
        using var file = SafeTensorsFile.Open(path);
        var listed = ModulesToSave(adapter.Config) ?? [];
        foreach (var p in _modules.ParametersOf(name))
        {
            string key = ModuleKey(adapter, p.Name);
            if (!file.Contains(key) && file.Contains(PlainKey(adapter, p.Name))) key = PlainKey(adapter, p.Name);
            if (!file.Contains(key))
            {
                // A listed module must be there; a trained bias may be absent (PEFT's "lora_only" files carry none): it starts from the base's.
                if (listed.Any(m => ModuleNames.Matches(ModuleNames.ModulePath(p.Name), m)))
                    throw new InvalidDataException($"{path}: modules_to_save lists '{ModuleNames.ModulePath(p.Name)}' but the file has no '{key}'.");
                continue;
            }
            var info = file.GetInfo(key);
            if (!info.Shape.AsSpan().SequenceEqual(p.StoredShape))
                throw new InvalidDataException($"{path}: '{key}' has shape {info.ShapeText} " +
                    $"but this model's '{p.Name}' is [{string.Join(", ", p.StoredShape)}].");
            var values = new float[p.Tensor.Length];
            p.FromStored(file.ReadFloat32(key), values);
            _modules.SetValues(name, p.Name, values);
        }
    }

    /// <summary>
    /// HF PEFT's key for a module copy: the base parameter's name under base_model.model (tuners) or
    /// base_model (prompt methods); a layer LoRA wraps keeps its own weights under "base_layer".
    /// </summary>
    private static string ModuleKey(IPeftAdapter adapter, string parameterName)
    {
        string module = ModuleNames.ModulePath(parameterName);
        return adapter is IWeightAdapter weight && weight.Wraps(module)
            ? $"base_model.model.{module}.base_layer{parameterName[module.Length..]}"
            : PlainKey(adapter, parameterName);
    }

    private static string PlainKey(IPeftAdapter adapter, string parameterName) =>
        (adapter is IWeightAdapter ? "base_model.model." : "base_model.") + parameterName;


    private static string? HeadKeyIn(string folder)
    {
        string path = Path.Combine(folder, AdapterFiles.WeightsFileName);
        if (!File.Exists(path)) return null;
        using var file = SafeTensorsFile.Open(path);
        return file.Tensors.Keys.FirstOrDefault(AdapterFiles.IsModuleToSaveKey);
    }

    /// <summary>The file key HF PEFT gives an adapter's head copy: under base_model.model for tuners (LoRA, IA3), base_model for prompt methods.</summary>
    private static string HeadKey(IPeftAdapter adapter) => adapter is IWeightAdapter ? "base_model.model.score.weight" : "base_model.score.weight";

    /// <summary>Adds an adapter built elsewhere (e.g. from a training checkpoint); it must belong to this base model.</summary>
    public void AddAdapter(string name, IPeftAdapter adapter, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        CheckNewName(name);
        Register(name, adapter, trainable);
    }

    private void Register(string name, IPeftAdapter adapter, bool trainable)
    {
        // Module copies are checked against the model before the adapter is registered; a weight
        // adapter the factory already attached to the layers comes off again, leaving the model as it was.
        ModelParameter[] moduleParameters;
        try
        {
            var trained = adapter is ITrainsBaseParameters trainer ? trainer.TrainedBaseParameters(BaseModel) : [];
            moduleParameters = (ModulesToSave(adapter.Config) is { } modules ? _modules.Resolve(modules) : []).Union(trained).ToArray();
        }
        catch
        {
            if (adapter is IWeightAdapter attached) attached.Detach();
            throw;
        }
        _names.Add(name);
        _adapters[name] = adapter;
        if (trainable) _trainable.Add(name);
        foreach (var p in adapter.Parameters) p.RequiresGrad = trainable;
        if (Classifier is not null)
        {
            var head = Tensor.Parameter(Classifier.Score.Span, Classifier.Score.Shape, SequenceClassificationModel.ScoreName);
            head.RequiresGrad = trainable;
            _heads[name] = head;
        }
        if (adapter is IWeightAdapter weight) weight.Training = _training;
        _modules.Add(name, moduleParameters);
        if (_active.Count == 0) _active.Add(name);
        Refresh();
    }

    /// <summary>The config's modules_to_save other than a classifier's head (which every adapter of a classifier keeps anyway).</summary>
    private IReadOnlyList<string>? ModulesToSave(IPeftConfig config)
    {
        if (config is not IModulesToSaveConfig { ModulesToSave: { } modules }) return null;
        var generic = modules.Where(m => Classifier is null || !AdapterFiles.ClassificationModules.Contains(m)).ToArray();
        return generic.Length == 0 ? null : generic;
    }

    private void CheckNewName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An adapter name must not be empty.", nameof(name));
        if (_adapters.ContainsKey(name)) throw new ArgumentException($"An adapter named '{name}' already exists; delete it first or choose another name.",
            nameof(name));
    }

    private IPeftAdapter Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _adapters.TryGetValue(name, out var adapter) ? adapter
            : throw new KeyNotFoundException($"No adapter named '{name}'; " +
                $"the model has {(_names.Count == 0 ? "none" : string.Join(", ", _names.Select(n => $"'{n}'")))}.");
    }

    /// <summary>Makes <paramref name="name"/> the only active adapter.</summary>
    public void SetAdapter(string name) => SetActiveAdapters(name);

    /// <summary>Activates several adapters at once; prompt and prefix adapters stack in this order.</summary>
    public void SetActiveAdapters(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (string n in names) Get(n);
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"Adapter names must not repeat: {string.Join(", ", names)}.", nameof(names));
        _active.Clear();
        _active.AddRange(names);
        Refresh();
    }

    /// <summary>Whether <paramref name="name"/>'s weights train.</summary>
    public bool IsTrainable(string name)
    {
        Get(name);
        return _trainable.Contains(name);
    }

    /// <summary>Freezes or unfreezes an adapter's weights (e.g. freeze a domain prefix before training a task prefix on top).</summary>
    public void SetTrainable(string name, bool trainable)
    {
        var adapter = Get(name);
        if (trainable) _trainable.Add(name);
        else _trainable.Remove(name);
        foreach (var p in adapter.Parameters) p.RequiresGrad = trainable;
        if (_heads.TryGetValue(name, out var head)) head.RequiresGrad = trainable;
        Refresh();
    }

    /// <summary>Removes an adapter (detaching weight adapters from their layers).</summary>
    public void DeleteAdapter(string name)
    {
        var adapter = Get(name);
        if (adapter is IWeightAdapter weight) weight.Detach();
        _modules.Remove(name);
        _heads.Remove(name);
        _adapters.Remove(name);
        _names.Remove(name);
        _trainable.Remove(name);
        _active.Remove(name);
        Refresh();
    }

    /// <summary>Folds weight adapter <paramref name="name"/> (LoRA, IA3) into the base weights; prompt and prefix adapters stay as they are.</summary>
    /// <exception cref="InvalidOperationException">The adapter is not a weight adapter, or is not active.</exception>
    public void MergeAdapter(string name) => Weight(name, "merged").Merge();

    /// <summary>Takes weight adapter <paramref name="name"/> back out of the base weights.</summary>
    public void UnmergeAdapter(string name) => Weight(name, "unmerged").Unmerge();

    /// <summary>
    /// Merges weight adapter <paramref name="name"/> into the base weights and removes it from the
    /// model (HF's <c>merge_and_unload</c> for one adapter); other adapters, prompt ones included, stay.
    /// </summary>
    public void MergeAndUnload(string name)
    {
        if (_heads.ContainsKey(name))
            throw new InvalidOperationException($"Adapter '{name}' has its own classification head; merging it away would lose the head. " +
                "Merge with MergeAdapter instead.");
        Weight(name, "merged").MergeAndUnload();
        // Like HF's merge_and_unload, the adapter's module copies become the modules.
        _modules.Bake(name);
        _adapters.Remove(name);
        _names.Remove(name);
        _trainable.Remove(name);
        _active.Remove(name);
        Refresh();
    }

    /// <summary>
    /// Adds LoRA adapter <paramref name="newName"/> whose update is Σ wᵢ·ΔWᵢ of the named LoRA
    /// adapters (PEFT's <c>add_weighted_adapter</c> with the "cat" combination); a single adapter
    /// with weight 1 is reproduced exactly. The new adapter is trainable and not yet active.
    /// </summary>
    public IPeftAdapter AddWeightedAdapter(IReadOnlyList<string> names, IReadOnlyList<float> weights, string newName)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(weights);
        if (names.Count != weights.Count)
            throw new ArgumentException($"{names.Count} adapter names but {weights.Count} weights; give one weight per adapter.", nameof(weights));
        CheckNewName(newName);
        var sources = names.Select((n, i) => (
            Get(n) as Lora.LoraAdapter
                ?? throw new ArgumentException($"Adapter '{n}' is {Get(n).Config.PeftType}; only LoRA adapters can be combined.", nameof(names)),
            weights[i])).ToArray();
        var combined = Lora.LoraAdapter.Combine(sources, BaseModel.LinearLayers);
        Register(newName, combined, trainable: true);
        return combined;
    }

    private IWeightAdapter Weight(string name, string verb)
    {
        var adapter = Get(name);
        if (adapter is not IWeightAdapter weight)
            throw new InvalidOperationException($"Adapter '{name}' is {adapter.Config.PeftType}; only LoRA and IA3 adapters can be {verb}.");
        if (!weight.IsActive) throw new InvalidOperationException($"Adapter '{name}' is not active (or adapters are disabled); activate it first.");
        return weight;
    }

    /// <summary>
    /// Turns every adapter off until the returned scope is disposed (scopes nest; the base model
    /// alone runs inside them), as HF PEFT's <c>with model.disable_adapter():</c>.
    /// </summary>
    public IDisposable DisableAdapters()
    {
        _disabledScopes++;
        Refresh();
        return new DisabledScope(this);
    }

    private sealed class DisabledScope(PeftModel owner) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            owner._disabledScopes--;
            owner.Refresh();
        }
    }

    /// <summary>Weight adapters apply exactly when enabled and active.</summary>
    private void Refresh()
    {
        bool enabled = AdaptersEnabled;
        foreach (var (name, adapter) in _adapters)
            if (adapter is IWeightAdapter weight) weight.IsActive = enabled && _active.Contains(name);
        _modules.Apply(enabled ? _active : [], _trainable);
    }

    /// <summary>The parameters of active, trainable adapters: what an optimizer should update.</summary>
    public IReadOnlyList<Tensor> TrainableParameters =>
        _active.Where(_trainable.Contains).SelectMany(AllParameters).ToArray();

    /// <summary>An adapter's parameters, on a classifier its head, and the base tensors holding its module copies now.</summary>
    private IEnumerable<Tensor> AllParameters(string name) =>
        (_heads.TryGetValue(name, out var head) ? _adapters[name].Parameters.Append(head) : _adapters[name].Parameters).Concat(_modules.Owned(name));

    /// <summary>The head of the last active adapter (or the base head when adapters are off).</summary>
    private Tensor? ActiveHead => Classifier is null ? null
        : AdaptersEnabled && _active.Count > 0 ? _heads[_active[^1]] : Classifier.Score;

    /// <summary>The trainable parameters with their adapter's name (checkpoint keys are "adapter/tensor").</summary>
    internal IEnumerable<(string Adapter, Tensor Parameter)> NamedTrainableParameters =>
        _active.Where(_trainable.Contains).SelectMany(n => AllParameters(n).Select(p => (n, p)));

    /// <summary>The active, trainable adapters.</summary>
    internal IEnumerable<IPeftAdapter> TrainableAdapters => _active.Where(_trainable.Contains).Select(n => _adapters[n]);

    /// <summary>Number of trainable values and of all values (base + adapters), as HF's <c>print_trainable_parameters</c>.</summary>
    public (long Trainable, long Total) CountParameters()
    {
        long trainable = TrainableParameters.Sum(p => (long)p.Length);
        long adapters = _names.Sum(n => _adapters[n].Parameters.Sum(p => (long)p.Length) + (_heads.TryGetValue(n, out var h) ? h.Length : 0));
        return (trainable, BaseModel.Parameters.ElementCount + adapters + _modules.CopyElements);
    }

    /// <summary>Writes adapter <paramref name="name"/> as an HF PEFT folder.</summary>
    public void SaveAdapter(string name, string folder)
    {
        var adapter = Get(name);
        var contents = adapter.FileContents();
        // The base decides the task type, whatever the config said (a contradiction failed when the adapter was added).
        contents.Config["task_type"] = PeftTaskTypes.ToHf(TaskType);
        // Module copies and a classification head go into the same file, written once.
        var tensors = contents.Tensors.ToList();
        if (_heads.TryGetValue(name, out var head))
        {
            var copy = Tensor.Wrap(head.ToArray(), head.Shape);
            copy.Name = HeadKey(adapter);
            tensors.Add(copy);
            if (adapter is IWeightAdapter)
            {
                var listed = contents.Config["modules_to_save"] is System.Text.Json.Nodes.JsonArray existing
                    ? existing.Select(n => n!.GetValue<string>()).ToList()
                    : [];
                if (!listed.Contains("score")) listed.Add("score");
                contents.Config["modules_to_save"] = ConfigFields.ModulesToSaveJson(listed);
            }
        }
        foreach (var p in _modules.ParametersOf(name))
        {
            var stored = Tensor.Wrap(p.ToStored(_modules.Values(name, p.Name)), new Shape(p.StoredShape));
            stored.Name = ModuleKey(adapter, p.Name);
            tensors.Add(stored);
        }
        AdapterFiles.Write(folder, contents.Config, tensors);
    }

    private IEnumerable<IPeftAdapter> Applied => AdaptersEnabled ? _active.Select(n => _adapters[n]) : [];

    /// <summary>
    /// The stacked virtual tokens of the active prompt adapters, or null: [count, hidden], or
    /// [batch, count, hidden] when a multitask adapter needs per-row task ids.
    /// </summary>
    public Tensor? VirtualTokens(int batch, IntTensor? taskIds)
    {
        var parts = Applied.OfType<IVirtualTokenAdapter>().Select(a => a.VirtualTokens(batch, taskIds)).ToArray();
        if (parts.Length == 0) return null;
        if (parts.Length == 1) return parts[0];
        if (parts.All(p => p.Rank == 2)) return Ops.Concat(parts, 0);
        var rows = parts.Select(p => p.Rank == 3 ? p : Ops.Repeat(Ops.Reshape(p, 1, p.Shape[0], p.Shape[1]), batch)).ToArray();
        return Ops.Concat(rows, 1);
    }

    /// <summary>The stacked prefix of the active prefix adapters (concatenated per layer in stacking order), or null.</summary>
    public PrefixKeyValues? Prefix(int batch) => Stack(Applied.OfType<IPrefixAdapter>().Select(a => a.Prefix(batch)).ToArray());

    /// <summary>The stacked encoder self-attention prefix (paper-mode prefix adapters on encoder-decoder models), or null.</summary>
    public PrefixKeyValues? EncoderPrefix(int batch) =>
        Stack(Applied.OfType<IPrefixAdapter>().Select(a => a.EncoderPrefix(batch)).OfType<PrefixKeyValues>().ToArray());

    /// <summary>The stacked cross-attention prefix (paper-mode prefix adapters on encoder-decoder models), or null.</summary>
    public PrefixKeyValues? CrossAttentionPrefix(int batch) =>
        Stack(Applied.OfType<IPrefixAdapter>().Select(a => a.CrossAttentionPrefix(batch)).OfType<PrefixKeyValues>().ToArray());

    private static PrefixKeyValues? Stack(PrefixKeyValues[] prefixes)
    {
        if (prefixes.Length == 0) return null;
        if (prefixes.Length == 1) return prefixes[0];
        var layers = new (Tensor, Tensor)[prefixes[0].Layout.Layers];
        // Shared rows stack as shared rows; a mix takes every prefix at the batch's rows.
        bool shared = prefixes.All(p => p.IsShared);
        for (int i = 0; i < layers.Length; i++)
        {
            var parts = prefixes.Select(p => shared ? p.Source(i) : p[i]).ToArray();
            layers[i] = (Ops.Concat(parts.Select(p => p.Keys).ToArray(), 2), Ops.Concat(parts.Select(p => p.Values).ToArray(), 2));
        }
        return new PrefixKeyValues(layers, prefixes[0].Layout.BatchSize);
    }

    /// <summary>Virtual tokens the active prompt adapters put in front of every row (0 without any).</summary>
    public int VirtualTokenCount => Applied.OfType<IVirtualTokenAdapter>().Sum(a => a.NumVirtualTokens);

    /// <summary>
    /// The new tokens that fit after a prompt: <paramref name="requested"/>, cut to the positions the base's learned
    /// position table (GPT-2) leaves after the prompt and the active virtual tokens, so generation stops at the last
    /// position instead of failing past it; rotary and relative positions (Llama, Qwen2, Mistral, T5) set no limit.
    /// </summary>
    /// <param name="promptLength">The prompt's tokens.</param>
    /// <param name="requested">The new tokens asked for.</param>
    /// <exception cref="ArgumentException">The prompt alone fills the positions.</exception>
    public int NewTokensThatFit(int promptLength, int requested)
    {
        if (BaseModel.Config.PositionLimit is not int positions) return requested;
        int context = positions - VirtualTokenCount;
        if (promptLength >= context)
            throw new ArgumentException(
                $"The prompt is {promptLength} tokens; this model's context holds {context}, leaving no room to generate. Shorten the prompt.",
                nameof(promptLength));
        return Math.Min(requested, context - promptLength);
    }

    /// <summary>True when an active adapter needs task ids.</summary>
    public bool NeedsTaskIds => Applied.OfType<IVirtualTokenAdapter>().Any(a => a.NeedsTaskIds);

    /// <summary>What the applied adapters add to a batch of <paramref name="batch"/> rows.</summary>
    private AdapterInputs Inputs(int batch, IntTensor? taskIds) =>
        new(VirtualTokens(batch, taskIds), Prefix(batch), EncoderPrefix(batch), CrossAttentionPrefix(batch), Placement);

    /// <summary>Checks ids [batch, length] and a mask of the same shape; returns the batch size.</summary>
    private static int CheckInputs(IntTensor inputIds, IntTensor? attentionMask)
    {
        var (batch, _) = InputShapes.RequireTokenIds(inputIds, nameof(inputIds));
        InputShapes.RequireMatching(attentionMask, inputIds, "attention_mask", nameof(attentionMask));
        return batch;
    }

    /// <summary>
    /// The forward pass with the active adapters, as HF PEFT's <c>model(**inputs)</c> with no
    /// position ids: virtual tokens before each row (mask extended with ones, labels with -100),
    /// prefixes in front of every self-attention (mask extended with ones).
    /// </summary>
    /// <param name="inputIds">Token ids [batch, length].</param>
    /// <param name="attentionMask">[batch, length], 1 = token, 0 = padding; null = all ones.</param>
    /// <param name="labels">
    /// Causal: [batch, length] (shifted inside); seq2seq: the target ids [batch, target length];
    /// classifier: [batch] classes; -100 is ignored.
    /// </param>
    /// <param name="taskIds">[batch] task per row, for multitask prompt tuning.</param>
    /// <param name="decoderInputIds">Seq2seq decoder inputs; null = labels shifted right.</param>
    public PeftOutput Forward(IntTensor inputIds, IntTensor? attentionMask = null, IntTensor? labels = null, IntTensor? taskIds = null,
        IntTensor? decoderInputIds = null)
    {
        int batch = CheckInputs(inputIds, attentionMask);
        return _runner.Forward(Inputs(batch, taskIds), inputIds, attentionMask, labels, decoderInputIds);
    }

    /// <summary>
    /// The loss of <see cref="Forward"/> for the same inputs, for training, with the number of
    /// targets it averaged over (after the causal shift; what gradient accumulation weighs batches
    /// by). On a decoder-only language model the LM head runs only on positions with a target (see
    /// <see cref="CausalLanguageModel.Loss"/>), and <paramref name="chunked"/> avoids holding the
    /// vocabulary-sized logits; other models compute Forward's loss.
    /// </summary>
    /// <param name="inputIds">Token ids [batch, length].</param>
    /// <param name="labels">As for <see cref="Forward"/>.</param>
    /// <param name="attentionMask">As for <see cref="Forward"/>.</param>
    /// <param name="taskIds">As for <see cref="Forward"/>.</param>
    /// <param name="chunked">Compute a causal LM head and cross-entropy in chunks without holding the logits.</param>
    public TargetLoss Loss(IntTensor inputIds, IntTensor labels, IntTensor? attentionMask = null, IntTensor? taskIds = null, bool chunked = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int batch = CheckInputs(inputIds, attentionMask);
        return _runner.Loss(Inputs(batch, taskIds), inputIds, labels, attentionMask, chunked);
    }

    /// <summary>
    /// Generates with the active adapters (greedy unless <see cref="GenerationOptions.DoSample"/>),
    /// laid out as HF's <c>generate().sequences</c>: causal models return the prompt (with its
    /// padding) and the new ids; seq2seq models the decoder start id and the new ids. Cached and
    /// uncached runs give the same greedy tokens.
    /// </summary>
    /// <param name="inputIds">Prompt ids [batch, length], left-padded for causal models.</param>
    /// <param name="attentionMask">[batch, length] or null for all ones.</param>
    /// <param name="options">Length, stopping, sampling and cache settings.</param>
    /// <param name="taskIds">[batch] task per row, for multitask prompt tuning.</param>
    /// <exception cref="InvalidOperationException">The base is a classifier.</exception>
    public IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, IntTensor? taskIds = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        int batch = CheckInputs(inputIds, attentionMask);
        using var noGrad = Autograd.NoGrad();
        // Computed once: the adapters' outputs do not change while generating.
        return _runner.Generate(Inputs(batch, taskIds).Kept(), inputIds, attentionMask, options);
    }

    /// <summary>
    /// Streams the new ids of one prompt ([1, length]) with the active adapters as they are
    /// generated; stops after an eos id (which is yielded), at MaxNewTokens, or when
    /// <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <param name="inputIds">Prompt ids [1, length].</param>
    /// <param name="attentionMask">[1, length] or null for all ones.</param>
    /// <param name="options">Length, stopping, sampling and cache settings.</param>
    /// <param name="taskIds">[1] task, for multitask prompt tuning.</param>
    /// <param name="cancellationToken">Checked between tokens.</param>
    /// <exception cref="InvalidOperationException">The base is a classifier.</exception>
    public IAsyncEnumerable<int> StreamAsync(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, IntTensor? taskIds = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        int batch = CheckInputs(inputIds, attentionMask);
        AdapterInputs kept;
        using (Autograd.NoGrad()) kept = Inputs(batch, taskIds).Kept();
        return _runner.StreamAsync(kept, inputIds, attentionMask, options, cancellationToken);
    }
}
