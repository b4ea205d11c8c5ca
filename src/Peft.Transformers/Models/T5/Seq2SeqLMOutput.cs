using Peft.Tensors;

namespace Peft.Transformers.Models.T5;

/// <summary>What an encoder-decoder model's forward pass returns.</summary>
/// <param name="Logits">[batch, decoderLength, vocab].</param>
/// <param name="Loss">Mean cross-entropy against the labels (no shift; -100 ignored), when labels were given.</param>
/// <param name="EncoderLastHiddenState">[batch, sourceLength, hidden].</param>
public sealed record Seq2SeqLMOutput(Tensor Logits, Tensor? Loss, Tensor EncoderLastHiddenState);
