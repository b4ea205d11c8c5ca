using System.Text.Json.Nodes;
using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>An adapter as HF PEFT saves it: adapter_config.json's object and adapter_model.safetensors' tensors (named by key).</summary>
/// <param name="Config">The config object.</param>
/// <param name="Tensors">The tensors, each with its PEFT key as <see cref="Tensor.Name"/>.</param>
public sealed record AdapterFileContents(JsonObject Config, IReadOnlyList<Tensor> Tensors);
