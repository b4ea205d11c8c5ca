using Peft.Tensors;
using Peft.Transformers.Models;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// HF PEFT's <c>modules_to_save</c> for any base module: each adapter that names a module keeps
/// its own full copy of the module's weights. The model's layers hold the base tensors, so the
/// copy of the adapter in charge (the last applied one that has it) is loaded into those tensors
/// and trains there; switching adapters writes the values back into the adapter's copy and loads
/// the next one (or the base's original values when none applies).
/// </summary>
internal sealed class ModuleCopies
{
    private readonly ILanguageModel _model;
    private readonly Dictionary<string, ModelParameter> _parameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _originals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, float[]>> _copies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);

    public ModuleCopies(ILanguageModel model) => _model = model;

    /// <summary>
    /// The base parameters of the named modules (a module matches its full path or a path ending in
    /// "." + name, as PEFT matches). Fails naming the module when it matches nothing, is quantized,
    /// or is the token embedding that the LM head shares (a copy would change both).
    /// </summary>
    public IReadOnlyList<ModelParameter> Resolve(IReadOnlyList<string> modules)
    {
        var found = new List<ModelParameter>();
        foreach (string module in modules)
        {
            var matches = _model.Parameters.All.Where(p => ModuleNames.Matches(ModuleNames.ModulePath(p.Name), module)).ToList();
            if (matches.Count == 0)
            {
                bool quantized = _model.Parameters.Quantized.Any(q => ModuleNames.Matches(ModuleNames.ModulePath(q.Name), module));
                throw new AdapterConfigException(quantized
                    ? $"modules_to_save names '{module}', whose weight is quantized here; a trainable copy needs a float module " +
                        "(load the base without quantizing it, e.g. LoadOptions.QuantizationExcludedModules)."
                    : $"modules_to_save names '{module}', but the model has no module of that name (its modules include " +
                        $"{string.Join(", ", _model.Parameters.All.Select(p => ModuleNames.ModulePath(p.Name)).Distinct().Take(6))}, ...).");
            }
            foreach (var p in matches)
            {
                if (ReferenceEquals(p.Tensor, _model.TokenEmbeddings) && !_model.Parameters.Contains("lm_head.weight")
                    && _model is not Transformers.Models.Classification.SequenceClassificationModel)
                    throw new AdapterConfigException($"modules_to_save names '{module}': '{p.Name}' is also this model's LM head (tied embeddings), " +
                        "so a copy would change both; HF PEFT trains the input embedding alone. Untie the weights or train the module another way.");
                if (!found.Contains(p)) found.Add(p);
            }
        }
        return found;
    }

    /// <summary>Gives <paramref name="adapter"/> its own copies of the parameters, starting from the base's original values.</summary>
    public void Add(string adapter, IReadOnlyList<ModelParameter> parameters)
    {
        if (parameters.Count == 0) return;
        var copies = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (!_parameters.ContainsKey(p.Name))
            {
                _parameters[p.Name] = p;
                _originals[p.Name] = p.Tensor.ToArray();
                _owners[p.Name] = null;
            }
            copies[p.Name] = (float[])_originals[p.Name].Clone();
        }
        _copies[adapter] = copies;
    }

    /// <summary>True when <paramref name="adapter"/> keeps module copies.</summary>
    public bool Has(string adapter) => _copies.ContainsKey(adapter);

    /// <summary>The parameters <paramref name="adapter"/> keeps copies of.</summary>
    public IEnumerable<ModelParameter> ParametersOf(string adapter) =>
        _copies.TryGetValue(adapter, out var copies) ? copies.Keys.Select(n => _parameters[n]) : [];

    /// <summary>
    /// Puts into every base tensor the copy of the last of <paramref name="applied"/> that has one
    /// (the original values when none does), writing the outgoing adapter's values back first; a
    /// base tensor trains exactly when its copy's adapter is in <paramref name="trainable"/>.
    /// </summary>
    public void Apply(IReadOnlyList<string> applied, IReadOnlySet<string> trainable)
    {
        foreach (var (name, parameter) in _parameters)
        {
            string? wanted = null;
            for (int i = applied.Count - 1; i >= 0 && wanted is null; i--)
                if (_copies.TryGetValue(applied[i], out var copies) && copies.ContainsKey(name)) wanted = applied[i];
            var tensor = parameter.Tensor;
            string? owner = _owners[name];
            // Values change when another copy comes in, or may have been trained while the tensor
            // required gradients: either way kernels' packed copies of it are stale.
            bool stale = owner != wanted || tensor.RequiresGrad;
            if (owner != wanted)
            {
                if (owner is not null) tensor.Span.CopyTo(_copies[owner][name]);
                (wanted is null ? _originals[name] : _copies[wanted][name]).CopyTo(tensor.Span);
                _owners[name] = wanted;
            }
            tensor.RequiresGrad = wanted is not null && trainable.Contains(wanted);
            if (stale) tensor.MarkModified();
        }
    }

    /// <summary>The base tensors currently holding <paramref name="adapter"/>'s copies (what trains for it).</summary>
    public IEnumerable<Tensor> Owned(string adapter) =>
        _owners.Where(o => o.Value == adapter).Select(o => _parameters[o.Key].Tensor);

    /// <summary>The current values of <paramref name="adapter"/>'s copy of parameter <paramref name="name"/>.</summary>
    public ReadOnlySpan<float> Values(string adapter, string name) =>
        _owners[name] == adapter ? _parameters[name].Tensor.Span : _copies[adapter][name];

    /// <summary>Overwrites <paramref name="adapter"/>'s copy of <paramref name="name"/> (e.g. from an adapter file).</summary>
    public void SetValues(string adapter, string name, ReadOnlySpan<float> values)
    {
        if (_owners[name] == adapter)
        {
            values.CopyTo(_parameters[name].Tensor.Span);
            _parameters[name].Tensor.MarkModified();
        }
        else values.CopyTo(_copies[adapter][name]);
    }

    /// <summary>Drops <paramref name="adapter"/>'s copies; base tensors it held go back to their original values.</summary>
    public void Remove(string adapter)
    {
        if (!_copies.Remove(adapter)) return;
        foreach (var (name, owner) in _owners.ToArray())
        {
            if (owner != adapter) continue;
            var tensor = _parameters[name].Tensor;
            _originals[name].CopyTo(tensor.Span);
            tensor.RequiresGrad = false;
            tensor.MarkModified();
            _owners[name] = null;
        }
    }

    /// <summary>Makes <paramref name="adapter"/>'s copies the base's values for good (merge-and-unload), then drops them.</summary>
    public void Bake(string adapter)
    {
        if (!_copies.TryGetValue(adapter, out var copies)) return;
        foreach (string name in copies.Keys) _originals[name] = Values(adapter, name).ToArray();
        Remove(adapter);
    }

    /// <summary>Elements of every adapter's copies (what they add to the model's size, as PEFT counts them).</summary>
    public long CopyElements => _copies.Sum(c => c.Value.Sum(kv => (long)kv.Value.Length));
}
