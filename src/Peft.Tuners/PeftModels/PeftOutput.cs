using Peft.Tensors;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// A forward pass's result: logits as HF PEFT returns them ([batch, virtual + length, vocab] for
/// a causal model with prompt adapters, whose virtual positions come first; [batch, target length,
/// vocab] for seq2seq) and the loss when labels were given.
/// </summary>
public sealed record PeftOutput(Tensor Logits, Tensor? Loss);
