using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Quantization;

namespace Peft.Transformers.Modules;

/// <summary>
/// A fully connected layer y = x·Wᵀ + b with weight [out, in], named by its Hugging Face module
/// path (e.g. <c>model.layers.0.self_attn.q_proj</c>) so adapters can target it by name. Adapters
/// attached to it run in order around the base product. The weight is float or, for a frozen
/// base model, quantized (<see cref="QuantizedWeight"/>); adapters see the same inputs and
/// outputs either way.
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
        _weight = weight;
        Bias = bias;
    }

    /// <summary>Creates a layer over a quantized (frozen) weight and an optional float bias.</summary>
    public LinearLayer(string name, QuantizedMatrix weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weight);
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Rows))
            throw new ArgumentException($"Linear layer '{name}': bias {bias.Shape} must be [{weight.Rows}].", nameof(bias));
        Name = name;
        QuantizedWeight = weight;
        Bias = bias;
    }

    private Tensor? _weight;

    /// <summary>The Hugging Face module path.</summary>
    public string Name { get; }

    /// <summary>Weight [out, in] of a float layer.</summary>
    /// <exception cref="InvalidOperationException">The layer is quantized (use <see cref="QuantizedWeight"/>).</exception>
    public Tensor Weight => _weight ?? throw new InvalidOperationException(
        $"Linear layer '{Name}' holds a {QuantizedWeight!.Format} weight [{OutFeatures}, {InFeatures}] and has no float Weight; " +
        "use QuantizedWeight (Dequantize() gives a float copy).");

    /// <summary>The quantized weight, or null for a float layer.</summary>
    public QuantizedMatrix? QuantizedWeight { get; private set; }

    /// <summary>True when the base weight is quantized (and frozen).</summary>
    public bool IsQuantized => QuantizedWeight is not null;

    /// <summary>Bias [out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Input features.</summary>
    public int InFeatures => QuantizedWeight?.Columns ?? _weight!.Shape[1];

    /// <summary>Output features.</summary>
    public int OutFeatures => QuantizedWeight?.Rows ?? _weight!.Shape[0];

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
            if (a.IsActive) input = Replace(input, a.AdaptInput(this, input), keep: x);
        var y = QuantizedWeight is { } q ? Ops.QuantizedLinear(input, q, Bias) : Ops.Linear(input, _weight!, Bias);
        if (!ReferenceEquals(input, x)) TensorScope.Release(input);
        foreach (var a in _adapters)
            if (a.IsActive) y = Replace(y, a.AdaptOutput(this, x, y), keep: null);
        return y;
    }

    /// <summary>An adapter's replacement for an intermediate: the replaced one is used up (the caller's input is kept).</summary>
    private static Tensor Replace(Tensor old, Tensor replacement, Tensor? keep)
    {
        if (!ReferenceEquals(old, replacement) && !ReferenceEquals(old, keep)) TensorScope.Release(old);
        return replacement;
    }

    /// <summary>
    /// Replaces the float weight by a quantized copy and drops this layer's reference to the float
    /// tensor. A layer of a loaded model should be quantized through
    /// <see cref="ModelQuantization"/>, which also removes the float tensor from the model's
    /// parameters so its memory is freed and saving writes the quantized form.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is already quantized, or its weight trains (quantized weights are frozen).</exception>
    /// <exception cref="ArgumentException">The format is <see cref="QuantizationFormat.None"/> or unknown.</exception>
    public QuantizedMatrix Quantize(QuantizationFormat format, bool doubleQuantization = false)
    {
        if (_weight is null) throw new InvalidOperationException($"Linear layer '{Name}' is already quantized ({QuantizedWeight!.Format}).");
        if (_weight.RequiresGrad)
            throw new InvalidOperationException($"Linear layer '{Name}': its weight requires gradients; only frozen weights can be quantized.");
        var q = QuantizedMatrix.Quantize(_weight, format, doubleQuantization, $"Linear layer '{Name}'");
        UseQuantizedWeight(q);
        return q;
    }

    /// <summary>Makes <paramref name="weight"/> the layer's weight in place of the float one (same [out, in]).</summary>
    /// <exception cref="ArgumentException">The shape differs from the layer's.</exception>
    public void UseQuantizedWeight(QuantizedMatrix weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rows != OutFeatures || weight.Columns != InFeatures)
            throw new ArgumentException(
                $"Linear layer '{Name}': quantized weight [{weight.Rows}, {weight.Columns}] does not match the layer's [{OutFeatures}, {InFeatures}].",
                nameof(weight));
        QuantizedWeight = weight;
        _weight = null;
    }

    /// <summary>Describes the layer.</summary>
    public override string ToString() =>
        $"Linear '{Name}' {InFeatures}->{OutFeatures}{(Bias is null ? "" : " +bias")}{(QuantizedWeight is { } q ? " " + q.Format : "")}";
}
