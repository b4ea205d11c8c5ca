namespace Peft.MLNet.Classification;

/// <summary>The columns a text classifier reads and writes.</summary>
/// <param name="Label">The key-typed label (training only).</param>
/// <param name="Sentence1">The text.</param>
/// <param name="Sentence2">A second text for sentence-pair tasks, or null.</param>
/// <param name="Score">The class probabilities written (a vector, one per class).</param>
/// <param name="PredictedLabel">The predicted class written (a key with the label's names).</param>
/// <param name="TaskId">The Int32 task id column (multitask prompt tuning), or null.</param>
internal sealed record ClassificationColumns(string Label, string Sentence1, string? Sentence2, string Score, string PredictedLabel,
    string? TaskId = null);
