namespace Peft.Tuners.Adapters;

/// <summary>An adapter attached to linear layers of the base model (LoRA, IA3).</summary>
public interface IWeightAdapter : IPeftAdapter
{
    /// <summary>Whether the adapter takes part in forward passes.</summary>
    bool IsActive { get; set; }

    /// <summary>Training mode (dropout on) or inference.</summary>
    bool Training { get; set; }

    /// <summary>Whether the adapter is folded into the base weights.</summary>
    bool IsMerged { get; }

    /// <summary>Folds the adapter into the base weights (outputs unchanged up to rounding, no extra products).</summary>
    void Merge();

    /// <summary>Takes the adapter back out of the base weights.</summary>
    void Unmerge();

    /// <summary>Merges (if not yet merged) and removes the adapter, leaving its effect in the base weights.</summary>
    void MergeAndUnload();

    /// <summary>Removes the adapter from every layer it is attached to (undoing a merge first).</summary>
    void Detach();

    /// <summary>
    /// Whether the adapter wraps the linear layer at <paramref name="modulePath"/> (HF PEFT then
    /// keeps that layer's own weights under <c>base_layer</c>).
    /// </summary>
    bool Wraps(string modulePath);
}
