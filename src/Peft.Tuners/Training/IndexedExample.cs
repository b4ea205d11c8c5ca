namespace Peft.Tuners.Training;

/// <summary>A training row with its number in the data it came from, so a message can name the row.</summary>
/// <param name="Index">The row's position in its source (0-based), whatever order it is read in.</param>
/// <param name="Example">The row.</param>
public readonly record struct IndexedExample(long Index, TrainingExample Example);
