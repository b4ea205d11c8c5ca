using Peft.Tensors;

namespace Peft.Transformers.Modules;

/// <summary>
/// A weight-side adapter attached to a <see cref="LinearLayer"/> (LoRA, IA3). The layer calls
/// <see cref="AdaptInput"/> before its own product and <see cref="AdaptOutput"/> after, so the
/// model code never needs to know which adapters exist.
/// </summary>
public interface ILinearAdapter
{
    /// <summary>Whether the adapter currently takes part in forward passes.</summary>
    bool IsActive { get; }

    /// <summary>Transforms the layer's input (IA3 on feed-forward layers scales it); return <paramref name="input"/> to leave it.</summary>
    Tensor AdaptInput(LinearLayer layer, Tensor input);

    /// <summary>Transforms the layer's output given the (original) input; LoRA adds its low-rank update here.</summary>
    Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output);
}
