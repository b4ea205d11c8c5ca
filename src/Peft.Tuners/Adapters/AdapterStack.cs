using System.Text.Json;
using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Modules;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Adapters;

/// <summary>
/// Several HF PEFT adapter folders applied to one base model at once, in the order given (what
/// HF PEFT cannot do): weight adapters (LoRA, IA3) attach to their layers; prompt adapters stack,
/// their virtual tokens concatenated in order, and prefix adapters likewise per layer.
/// </summary>
public sealed class AdapterStack
{
    private readonly List<PromptTuningAdapter> _prompts = [];
    private readonly List<PTuningAdapter> _pTunings = [];
    private readonly List<MultitaskPromptTuningAdapter> _multitask = [];
    private readonly List<PrefixTuningAdapter> _prefixes = [];
    private readonly List<object> _order = [];

    /// <summary>The peft_type of each loaded folder, in order.</summary>
    public IReadOnlyList<string> Types { get; private set; } = [];

    /// <summary>True when a prompt-side adapter puts virtual tokens in front of the input.</summary>
    public bool HasVirtualTokens => _prompts.Count + _pTunings.Count + _multitask.Count > 0;

    /// <summary>True when a multitask adapter needs task ids.</summary>
    public bool NeedsTaskIds => _multitask.Count > 0;

    /// <summary>True when a prefix adapter is loaded.</summary>
    public bool HasPrefix => _prefixes.Count > 0;

    /// <summary>Loads every folder for a model with the given config, token embeddings and linear layers.</summary>
    /// <exception cref="AdapterConfigException">Unknown peft_type, or an adapter that does not fit the model.</exception>
    public static AdapterStack Load(IEnumerable<string> folders, ModelConfig model, Tensor tokenEmbeddings, IReadOnlyList<LinearLayer> linearLayers, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var stack = new AdapterStack();
        var types = new List<string>();
        foreach (string folder in folders)
        {
            string type = PeekType(folder);
            object adapter = type switch
            {
                "LORA" => LoraAdapter.Load(folder, linearLayers, warn),
                "IA3" => Ia3Adapter.Load(folder, linearLayers),
                "PROMPT_TUNING" => Add(stack._prompts, PromptTuningAdapter.Load(folder, model, tokenEmbeddings)),
                "P_TUNING" => Add(stack._pTunings, PTuningAdapter.Load(folder, model)),
                "MULTITASK_PROMPT_TUNING" => Add(stack._multitask, MultitaskPromptTuningAdapter.Load(folder, model)),
                "PREFIX_TUNING" => Add(stack._prefixes, PrefixTuningAdapter.Load(folder, model)),
                _ => throw new AdapterConfigException($"{Path.Combine(folder, AdapterFiles.ConfigFileName)}: peft_type '{type}' is not supported; supported: LORA, IA3, PROMPT_TUNING, P_TUNING, MULTITASK_PROMPT_TUNING, PREFIX_TUNING."),
            };
            stack._order.Add(adapter);
            types.Add(type);
        }
        stack.Types = types;
        return stack;
    }

    private static T Add<T>(List<T> list, T item)
    {
        list.Add(item);
        return item;
    }

    private static string PeekType(string folder)
    {
        string path = Path.Combine(folder, AdapterFiles.ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {AdapterFiles.ConfigFileName} in {folder}.", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("peft_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{path}: not valid JSON ({ex.Message}).");
        }
    }

    /// <summary>
    /// The stacked virtual tokens: [count, hidden] when every adapter is shared, else
    /// [batch, count, hidden] (multitask adapters need <paramref name="taskIds"/>).
    /// </summary>
    public Tensor? VirtualTokens(int batch, IntTensor? taskIds)
    {
        if (!HasVirtualTokens) return null;
        if (NeedsTaskIds && taskIds is null)
            throw new ArgumentException("A multitask prompt tuning adapter needs task_ids (one per row).", nameof(taskIds));
        var parts = new List<Tensor>();
        bool perRow = NeedsTaskIds;
        foreach (var adapter in _order)
        {
            Tensor? t = adapter switch
            {
                PromptTuningAdapter p => p.VirtualTokens(),
                PTuningAdapter p => p.VirtualTokens(),
                MultitaskPromptTuningAdapter m => m.VirtualTokens(taskIds!),
                _ => null,
            };
            if (t is not null) parts.Add(t);
        }
        if (!perRow) return parts.Count == 1 ? parts[0] : Ops.Concat(parts.ToArray(), 0);
        var rows = parts.Select(t => t.Rank == 3 ? t : Ops.Concat(Enumerable.Repeat(Ops.Reshape(t, 1, t.Shape[0], t.Shape[1]), batch).ToArray(), 0)).ToArray();
        return rows.Length == 1 ? rows[0] : Ops.Concat(rows, 1);
    }

    /// <summary>The stacked prefix for a batch (prefixes concatenated in load order per layer), or null.</summary>
    public PrefixKeyValues? Prefix(int batch)
    {
        if (!HasPrefix) return null;
        var prefixes = _prefixes.Select(p => p.Prefix(batch)).ToArray();
        if (prefixes.Length == 1) return prefixes[0];
        var layers = new (Tensor, Tensor)[prefixes[0].Layout.Layers];
        for (int i = 0; i < layers.Length; i++)
            layers[i] = (Ops.Concat(prefixes.Select(p => p[i].Keys).ToArray(), 2), Ops.Concat(prefixes.Select(p => p[i].Values).ToArray(), 2));
        return new PrefixKeyValues(layers);
    }
}
