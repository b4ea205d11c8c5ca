using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>
/// One adapter on a base model, whatever its method. Its role in the forward pass is told by the
/// narrower interfaces it also implements: <see cref="IVirtualTokenAdapter"/> (embeddings in front
/// of the input), <see cref="IPrefixAdapter"/> (key/values in front of every attention) or
/// <see cref="IWeightAdapter"/> (wrapped linear layers).
/// </summary>
public interface IPeftAdapter
{
    /// <summary>The settings.</summary>
    IPeftConfig Config { get; }

    /// <summary>The tensors training updates (empty when the adapter was loaded inference-only).</summary>
    IEnumerable<Tensor> Parameters { get; }

    /// <summary>What HF PEFT's adapter folder holds for this adapter: the config and the named tensors.</summary>
    AdapterFileContents FileContents();
}
