using Peft.Tensors;

namespace Peft.Transformers.Models.Classification;

/// <summary>Class logits [batch, labels] and the cross-entropy loss when labels were given.</summary>
public sealed record SequenceClassifierOutput(Tensor Logits, Tensor? Loss);
