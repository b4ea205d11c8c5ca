using Peft.Tensors.Quantization;

namespace Peft.Transformers.Quantization;

/// <summary>A model weight stored quantized, under its Hugging Face parameter name (e.g. <c>model.layers.0.mlp.up_proj.weight</c>).</summary>
/// <param name="Name">The parameter name.</param>
/// <param name="Matrix">The quantized values, [out, in].</param>
public sealed record QuantizedParameter(string Name, QuantizedMatrix Matrix);
