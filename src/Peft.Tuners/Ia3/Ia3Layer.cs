using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Peft.Tensors;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Ia3;

/// <summary>
/// IA3 on one linear layer: a learned vector l, initialised to ones, that scales the output
/// (y = base(x) ⊙ l, bias included; stored [out, 1]) or, on feed-forward layers, the input
/// (y = base(x ⊙ l); stored [1, in]).
/// </summary>
public sealed class Ia3Layer : IMergeableLayer
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

    /// <inheritdoc/>
    public string MethodName => "IA3";

    /// <summary>True when the input is scaled.</summary>
    public bool IsFeedforward { get; }

    /// <summary>The learned vector ([out, 1] or [1, in], PEFT's shapes).</summary>
    public Tensor Scale { get; }

    /// <summary>Whether the layer takes part in forward passes; deactivating a merged layer unmerges it first.</summary>
    public bool IsActive
    {
        get => _active;
        set
        {
            if (!value && IsMerged) Unmerge();
            _active = value;
        }
    }

    private bool _active = true;

    /// <summary>Whether the scaling is folded into the base weight (and bias).</summary>
    public bool IsMerged { get; private set; }

    /// <summary>Folds the scaling into the base weight: rows (and bias) scaled by l, or columns on feed-forward layers.</summary>
    /// <exception cref="InvalidOperationException">Already merged, or inactive.</exception>
    public void Merge()
    {
        if (IsMerged) throw new InvalidOperationException($"IA3 on '{Target.Name}' is already merged.");
        if (!_active) throw new InvalidOperationException($"IA3 on '{Target.Name}' is inactive; activate it before merging.");
        MergeableLayers.RequireFloatTarget(MethodName, Target);
        Apply(divide: false);
        IsMerged = true;
    }

    /// <summary>Divides the scaling back out (as PEFT does).</summary>
    /// <exception cref="InvalidOperationException">Not merged, or a scale is zero (the weights cannot be recovered).</exception>
    public void Unmerge()
    {
        if (!IsMerged) throw new InvalidOperationException($"IA3 on '{Target.Name}' is not merged.");
        var l = Scale.Span;
        for (int i = 0; i < l.Length; i++)
            if (l[i] == 0) throw new InvalidOperationException($"IA3 on '{Target.Name}': scale {i} is 0, so the merged weights cannot be unmerged.");
        Apply(divide: true);
        IsMerged = false;
    }

    /// <summary>Keeps the merged base weight and forgets that it was merged (merge-and-unload).</summary>
    void IMergeableLayer.ForgetMerge() => IsMerged = false;

    private void Apply(bool divide)
    {
        var w = Target.Weight.Span;
        var l = Scale.Span;
        int outF = Target.OutFeatures, inF = Target.InFeatures;
        for (int o = 0; o < outF; o++)
        {
            var row = w.Slice(o * inF, inF);
            if (IsFeedforward)
            {
                if (divide) TensorPrimitives.Divide(row, l, row);
                else TensorPrimitives.Multiply(row, l, row);
            }
            else if (divide) TensorPrimitives.Divide(row, l[o], row);
            else TensorPrimitives.Multiply(row, l[o], row);
        }
        if (!IsFeedforward && Target.Bias is { } bias)
        {
            if (divide) TensorPrimitives.Divide(bias.Span, l, bias.Span);
            else TensorPrimitives.Multiply(bias.Span, l, bias.Span);
            bias.MarkModified();
        }
        Target.Weight.MarkModified();
    }

    /// <inheritdoc/>
    public Tensor AdaptInput(LinearLayer layer, Tensor input) =>
        IsFeedforward && !IsMerged ? Ops.Multiply(input, Ops.Reshape(Scale, Scale.Length)) : input;

    /// <inheritdoc/>
    public Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output) =>
        IsFeedforward || IsMerged ? output : Ops.Multiply(output, Ops.Reshape(Scale, Scale.Length));
}
