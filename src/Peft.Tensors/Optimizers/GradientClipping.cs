namespace Peft.Tensors.Optimizers;

/// <summary>Global-norm gradient clipping, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the L2 norm of all
    /// gradients together, and returns ‖g‖ before clipping. Parameters without a gradient are skipped.
    /// </summary>
    public static float ClipGlobalNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"maxNorm must be > 0; got {maxNorm}.");
        double sumSquares = 0;
        foreach (var p in parameters)
        {
            if (p.Grad is null) continue;
            float n = System.Numerics.Tensors.TensorPrimitives.Norm(p.Grad.Span);
            sumSquares += (double)n * n;
        }
        float total = (float)Math.Sqrt(sumSquares);
        float coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1f) GradientScaling.Scale(parameters, coefficient);
        return total;
    }
}
