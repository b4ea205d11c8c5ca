using System.Numerics.Tensors;

namespace Peft.Tensors.Optimizers;

/// <summary>Multiplying accumulated gradients in place (averaging accumulated sums, clipping).</summary>
public static class GradientScaling
{
    /// <summary>Multiplies every gradient of <paramref name="parameters"/> by <paramref name="factor"/>; parameters without a gradient are skipped.</summary>
    public static void Scale(IEnumerable<Tensor> parameters, float factor)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            if (p.Grad is null) continue;
            var g = p.Grad.Span;
            TensorPrimitives.Multiply(g, factor, g);
        }
    }
}
