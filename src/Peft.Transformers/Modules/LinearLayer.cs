using Peft.Tensors;

namespace Peft.Transformers.Modules;

/// <summary>
/// A fully connected layer y = x·Wᵀ + b with weight [out, in], named by its Hugging Face module
/// path (e.g. <c>model.layers.0.self_attn.q_proj</c>) so adapters can target it by name. Adapters
/// attached to it run in order around the base product.
/// </summary>
public sealed class LinearLayer
{
    private readonly List<ILinearAdapter> _adapters = [];

    /// <summary>Creates a layer over existing weight and bias tensors.</summary>
    public LinearLayer(string name, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"Linear layer '{name}': weight must be [out, in]; got {weight.Shape}.", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Linear layer '{name}': bias {bias.Shape} must be [{weight.Shape[0]}].", nameof(bias));
        Name = name;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>The Hugging Face module path.</summary>
    public string Name { get; }

    /// <summary>Weight [out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>Bias [out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Input features.</summary>
    public int InFeatures => Weight.Shape[1];

    /// <summary>Output features.</summary>
    public int OutFeatures => Weight.Shape[0];

    /// <summary>Adapters attached to this layer, in application order.</summary>
    public IReadOnlyList<ILinearAdapter> Adapters => _adapters;

    /// <summary>Attaches an adapter (applied after those already attached).</summary>
    public void AddAdapter(ILinearAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (_adapters.Contains(adapter)) throw new InvalidOperationException($"Linear layer '{Name}': that adapter is already attached.");
        _adapters.Add(adapter);
    }

    /// <summary>Detaches an adapter; returns false if it was not attached.</summary>
    public bool RemoveAdapter(ILinearAdapter adapter) => _adapters.Remove(adapter);

    /// <summary>Computes the layer (with active adapters) for x [..., in].</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var input = x;
        foreach (var a in _adapters)
            if (a.IsActive) input = a.AdaptInput(this, input);
        var y = Ops.Linear(input, Weight, Bias);
        foreach (var a in _adapters)
            if (a.IsActive) y = a.AdaptOutput(this, x, y);
        return y;
    }

    /// <summary>Describes the layer.</summary>
    public override string ToString() => $"Linear '{Name}' {InFeatures}->{OutFeatures}{(Bias is null ? "" : " +bias")}";
}
