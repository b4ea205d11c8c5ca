using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models;

/// <summary>
/// What every model family exposes to adapters: its config, named parameters, the linear layers
/// weight adapters wrap, and the token embedding table prompt methods read from.
/// </summary>
public interface ILanguageModel
{
    /// <summary>The model's configuration.</summary>
    ModelConfig Config { get; }

    /// <summary>What the model is for (decides how adapters feed it and the adapter files' <c>task_type</c>).</summary>
    ModelTask TaskType { get; }

    /// <summary>Every parameter by its Hugging Face name.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Every linear layer, named by module path, in model order.</summary>
    IReadOnlyList<LinearLayer> LinearLayers { get; }

    /// <summary>The token embedding table [vocab, hidden].</summary>
    Tensor TokenEmbeddings { get; }

    /// <summary>
    /// Recompute each block's activations during backward instead of keeping them (less memory
    /// for one extra forward pass per block; same gradients). Only passes without a cache use it.
    /// </summary>
    bool GradientCheckpointing { get; set; }

    /// <summary>Looks up token embeddings [batch, length, hidden], checking ids against the vocabulary.</summary>
    Tensor Embed(IntTensor inputIds);
}
