namespace Peft.Tuners.Adapters;

/// <summary>An adapter attached to linear layers of the base model (LoRA, IA3).</summary>
public interface IWeightAdapter : IPeftAdapter
{
    /// <summary>Whether the adapter takes part in forward passes.</summary>
    bool IsActive { get; set; }

    /// <summary>Training mode (dropout on) or inference.</summary>
    bool Training { get; set; }

    /// <summary>Removes the adapter from every layer it is attached to (undoing a merge first).</summary>
    void Detach();
}
