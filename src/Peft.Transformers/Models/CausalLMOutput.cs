using Peft.Tensors;

namespace Peft.Transformers.Models;

/// <summary>What a causal language model's forward pass returns.</summary>
/// <param name="Logits">[batch, length, vocab] next-token scores.</param>
/// <param name="Loss">Mean cross-entropy of the shifted labels (ignoring -100), when labels were given.</param>
/// <param name="HiddenStates">When requested: the embedding output followed by each block's output, the last after the final norm.</param>
public sealed record CausalLMOutput(Tensor Logits, Tensor? Loss, IReadOnlyList<Tensor>? HiddenStates);
