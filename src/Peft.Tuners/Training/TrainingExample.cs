namespace Peft.Tuners.Training;

/// <summary>
/// One tokenized training row. Sequence classifiers: <see cref="Labels"/> holds the row's class.
/// Causal models: <see cref="Labels"/> null trains on every token
/// (labels = input ids), or gives per-position targets of the same length with -100 where no loss
/// is wanted (e.g. the prompt part). Seq2seq models: <see cref="Labels"/> are the target ids (required).
/// </summary>
/// <param name="InputIds">Token ids of the input.</param>
/// <param name="Labels">Targets as described above, or null.</param>
/// <param name="TaskId">Task id for multitask prompt tuning, or null.</param>
public sealed record TrainingExample(IReadOnlyList<int> InputIds, IReadOnlyList<int>? Labels = null, int? TaskId = null);
