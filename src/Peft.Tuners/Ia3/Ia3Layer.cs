using Peft.Tensors;
using Peft.Transformers.Modules;

namespace Peft.Tuners.Ia3;

/// <summary>
/// IA3 on one linear layer: a learned vector l, initialised to ones, that scales the output
/// (y = base(x) ⊙ l, bias included; stored [out, 1]) or, on feed-forward layers, the input
/// (y = base(x ⊙ l); stored [1, in]).
/// </summary>
public sealed class Ia3Layer : ILinearAdapter
{
    internal Ia3Layer(LinearLayer target, bool feedforward)
    {
        Target = target;
        IsFeedforward = feedforward;
        int n = feedforward ? target.InFeatures : target.OutFeatures;
        var shape = feedforward ? new Shape(1, n) : new Shape(n, 1);
        Scale = Tensor.Parameter(Enumerable.Repeat(1f, n).ToArray(), shape, $"base_model.model.{target.Name}.ia3_l");
    }

    /// <summary>The scaled layer.</summary>
    public LinearLayer Target { get; }

    /// <summary>True when the input is scaled.</summary>
    public bool IsFeedforward { get; }

    /// <summary>The learned vector ([out, 1] or [1, in], PEFT's shapes).</summary>
    public Tensor Scale { get; }

    /// <inheritdoc/>
    public bool IsActive { get; set; } = true;

    /// <inheritdoc/>
    public Tensor AdaptInput(LinearLayer layer, Tensor input) =>
        IsFeedforward ? Ops.Multiply(input, Ops.Reshape(Scale, Scale.Length)) : input;

    /// <inheritdoc/>
    public Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output) =>
        IsFeedforward ? output : Ops.Multiply(output, Ops.Reshape(Scale, Scale.Length));
}
