using Peft.Tensors;
using Peft.Transformers.Modules;

namespace Peft.Tuners.Lora;

/// <summary>
/// The LoRA update on one linear layer: y = base(x) + scaling·B·A·dropout(x), with A [r, in]
/// (Kaiming-uniform like PEFT) and B [out, r] (zeros, so a new adapter starts as the identity).
/// </summary>
public sealed class LoraLayer : ILinearAdapter
{
    private readonly SeededRandom _dropoutRandom;

    internal LoraLayer(LinearLayer target, LoraConfig config, SeededRandom random)
    {
        Target = target;
        Scaling = config.Scaling;
        Dropout = config.LoraDropout;
        A = TensorInit.KaimingUniform(new Shape(config.R, target.InFeatures), random, name: $"base_model.model.{target.Name}.lora_A.weight");
        B = Tensor.Parameter(new float[target.OutFeatures * config.R], new Shape(target.OutFeatures, config.R), $"base_model.model.{target.Name}.lora_B.weight");
        _dropoutRandom = new SeededRandom(random.NextUInt32());
    }

    /// <summary>The adapted layer.</summary>
    public LinearLayer Target { get; }

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

    /// <inheritdoc/>
    public bool IsActive { get; set; } = true;

    /// <inheritdoc/>
    public Tensor AdaptInput(LinearLayer layer, Tensor input) => input;

    /// <inheritdoc/>
    public Tensor AdaptOutput(LinearLayer layer, Tensor input, Tensor output)
    {
        var x = Ops.Dropout(input, Dropout, _dropoutRandom, Training);
        var update = Ops.Scale(Ops.Linear(Ops.Linear(x, A), B), Scaling);
        return Ops.Add(output, update);
    }
}
