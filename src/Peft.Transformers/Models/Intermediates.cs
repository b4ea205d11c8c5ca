using Peft.Tensors;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models;

/// <summary>
/// The steps blocks chain that use up their input: each releases what it consumed
/// (<see cref="TensorScope.Release"/>), so a training step keeps only what backward reads.
/// </summary>
internal static class Intermediates
{
    /// <summary><paramref name="layer"/>(<paramref name="input"/>), releasing the input.</summary>
    public static Tensor Through(LinearLayer layer, Tensor input)
    {
        var output = layer.Forward(input);
        TensorScope.Release(input);
        return output;
    }

    /// <summary><paramref name="residual"/> + <paramref name="update"/>, releasing the update (the residual stream stays).</summary>
    public static Tensor AddTo(Tensor residual, Tensor update)
    {
        var sum = Ops.Add(residual, update);
        TensorScope.Release(update);
        return sum;
    }
}
