using Peft.Tensors;
using Peft.Tensors.Kernels;
using Peft.Transformers.Modules;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Lora;

/// <summary>
/// The LoRA update on one linear layer: y = base(x) + scaling·B·A·dropout(x), with A [r, in]
/// (Kaiming-uniform like PEFT) and B [out, r] (zeros, so a new adapter starts as the identity).
/// </summary>
public sealed class LoraLayer : IMergeableLayer
{
    private readonly SeededRandom _dropoutRandom;

    internal LoraLayer(LinearLayer target, LoraConfig config, SeededRandom random)
    {
        Target = target;
        Scaling = config.Scaling;
        Dropout = config.LoraDropout;
        var aShape = new Shape(config.R, target.InFeatures);
        string aName = $"base_model.model.{target.Name}.lora_A.weight", bName = $"base_model.model.{target.Name}.lora_B.weight";
        A = config.InitLoraWeights == LoraInit.Gaussian
            ? TensorInit.Normal(aShape, 0f, 1f / config.R, random, aName)
            : TensorInit.KaimingUniform(aShape, random, name: aName);
        B = config.InitLoraWeights == LoraInit.Random
            ? TensorInit.KaimingUniform(new Shape(target.OutFeatures, config.R), random, name: bName)
            : Tensor.Parameter(new float[target.OutFeatures * config.R], new Shape(target.OutFeatures, config.R), bName);
        _dropoutRandom = new SeededRandom(random.NextUInt32());
    }

    /// <summary>The dropout mask generator (its state goes into training checkpoints).</summary>
    internal SeededRandom DropoutRandom => _dropoutRandom;

    /// <summary>The adapted layer.</summary>
    public LinearLayer Target { get; }

    /// <inheritdoc/>
    public string MethodName => "LoRA";

    /// <summary>Down projection [r, in].</summary>
    public Tensor A { get; }

    /// <summary>Up projection [out, r].</summary>
    public Tensor B { get; }

    /// <summary>alpha / r (or alpha / √r).</summary>
    public float Scaling { get; }

    /// <summary>Dropout probability on the adapter input while training.</summary>
    public float Dropout { get; }

    /// <summary>Whether dropout is applied (training mode).</summary>
    public bool Training { get; set; }

    /// <summary>Whether the update is currently folded into the base weight (then the layer adds nothing itself).</summary>
    public bool IsMerged { get; private set; }

    /// <summary>Whether the layer takes part in forward passes; deactivating a merged layer unmerges it first, so outputs stay right.</summary>
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

    /// <summary>
    /// Folds the update into the base weight: W += scaling·B·A. Outputs are unchanged up to
    /// rounding; the adapter's own product is skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already merged, or inactive.</exception>
    public void Merge()
    {
        if (IsMerged) throw new InvalidOperationException($"LoRA on '{Target.Name}' is already merged.");
        if (!_active) throw new InvalidOperationException($"LoRA on '{Target.Name}' is inactive; activate it before merging.");
        MergeableLayers.RequireFloatTarget(MethodName, Target);
        AddDelta(Scaling);
        IsMerged = true;
    }

    /// <summary>Takes the update back out of the base weight: W −= scaling·B·A (exact up to rounding, as in PEFT).</summary>
    /// <exception cref="InvalidOperationException">Not merged.</exception>
    public void Unmerge()
    {
        if (!IsMerged) throw new InvalidOperationException($"LoRA on '{Target.Name}' is not merged.");
        AddDelta(-Scaling);
        IsMerged = false;
    }

    /// <summary>Keeps the merged base weight and forgets that it was merged (merge-and-unload).</summary>
    void IMergeableLayer.ForgetMerge() => IsMerged = false;

    private void AddDelta(float scale)
    {
        var w = Target.Weight;
        int outF = Target.OutFeatures, inF = Target.InFeatures, r = A.Shape[0];
        Gemm.Multiply(false, false, outF, inF, r, scale, B.Span, r, A.Span, inF, 1f, w.Span, inF);
        w.MarkModified();
    }

    /// <inheritdoc/>
    public Tensor AdaptInput(LinearLayer layer, Tensor input) => input;

    /// <inheritdoc/>
    public Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output)
    {
        if (IsMerged) return output;
        var x = Ops.Dropout(input, Dropout, _dropoutRandom, Training);
        var down = Ops.Linear(x, A);
        if (!ReferenceEquals(x, input)) TensorScope.Release(x);
        var up = Ops.Linear(down, B);
        TensorScope.Release(down);
        var update = Ops.Scale(up, Scaling);
        TensorScope.Release(up);
        var y = Ops.Add(output, update);
        TensorScope.Release(update);
        return y;
    }
}
