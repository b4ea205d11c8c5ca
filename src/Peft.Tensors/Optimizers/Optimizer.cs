namespace Peft.Tensors.Optimizers;

/// <summary>
/// Updates a fixed list of trainable parameters from their accumulated gradients. Parameters
/// whose gradient is null in a step (not reached by backward) are left unchanged.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Creates an optimizer over <paramref name="parameters"/>, which must all require gradients.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToArray();
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null) throw new ArgumentException($"Parameter {i} is null.", nameof(parameters));
            if (!list[i].RequiresGrad)
                throw new ArgumentException(
                    $"Parameter {i} ({list[i]}) does not require gradients; an optimizer only takes trainable parameters.", nameof(parameters));
        }
        Parameters = list;
        LearningRate = learningRate;
    }

    /// <summary>The parameters updated by <see cref="Step"/>.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    private float _learningRate;

    /// <summary>The learning rate used by the next <see cref="Step"/> (schedules set it each step).</summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), $"Learning rate must be finite and >= 0; got {value}.");
            _learningRate = value;
        }
    }

    /// <summary>Number of completed <see cref="Step"/> calls.</summary>
    public int StepCount { get; protected set; }

    /// <summary>Applies one update from the current gradients.</summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue;
            Update(i, p.Span, p.Grad.Span);
            p.MarkModified();
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> in place; <see cref="StepCount"/> is already incremented.</summary>
    protected abstract void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient);

    /// <summary>Clears every parameter's gradient (the next backward starts from zero).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }
}
