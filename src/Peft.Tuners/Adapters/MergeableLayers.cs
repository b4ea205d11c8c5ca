using Peft.Transformers.Modules;

namespace Peft.Tuners.Adapters;

/// <summary>A weight adapter's part on one linear layer that can be folded into the layer's weight (LoRA, IA3).</summary>
internal interface IMergeableLayer : ILinearAdapter
{
    LinearLayer Target { get; }

    /// <summary>The method's name in messages ("LoRA", "IA3").</summary>
    string MethodName { get; }

    bool IsMerged { get; }

    void Merge();

    void Unmerge();

    /// <summary>Keeps the merged weight and forgets that it was merged (merge-and-unload).</summary>
    void ForgetMerge();
}

/// <summary>The merge bookkeeping LoRA and IA3 adapters share over their layers.</summary>
internal static class MergeableLayers
{
    public static bool AllMerged<T>(List<T> layers) where T : IMergeableLayer => layers.Count > 0 && layers.All(l => l.IsMerged);

    public static void Merge<T>(List<T> layers) where T : IMergeableLayer
    {
        CheckFloat(layers);
        foreach (var l in layers) l.Merge();
    }

    /// <summary>All or nothing: a quantized target anywhere stops the merge before any weight changes.</summary>
    private static void CheckFloat<T>(List<T> layers) where T : IMergeableLayer
    {
        foreach (var l in layers)
            if (!l.IsMerged) RequireFloatTarget(l.MethodName, l.Target);
    }

    /// <summary>Merging folds an update into a float weight: a quantized target is refused with the way out.</summary>
    public static void RequireFloatTarget(string method, LinearLayer target)
    {
        if (target.IsQuantized)
            throw new InvalidOperationException($"{method} on '{target.Name}': the base weight is held as {target.QuantizedWeight!.Format}; " +
                "merging would need a float weight. Keep the adapter unmerged (it runs in float beside the quantized base), " +
                "or load the base in float32 to merge.");
    }

    public static void Unmerge<T>(List<T> layers) where T : IMergeableLayer
    {
        foreach (var l in layers) l.Unmerge();
    }

    /// <summary>Merges where needed, then removes every layer's adapter, leaving its effect in the weights.</summary>
    public static void MergeAndUnload<T>(List<T> layers) where T : IMergeableLayer
    {
        CheckFloat(layers);
        foreach (var l in layers)
        {
            if (!l.IsMerged) l.Merge();
            l.ForgetMerge();
            l.Target.RemoveAdapter(l);
        }
        layers.Clear();
    }

    /// <summary>Removes every layer's adapter, unmerging first where merged.</summary>
    public static void Detach<T>(List<T> layers) where T : IMergeableLayer
    {
        foreach (var l in layers)
        {
            if (l.IsMerged) l.Unmerge();
            l.Target.RemoveAdapter(l);
        }
        layers.Clear();
    }
}
