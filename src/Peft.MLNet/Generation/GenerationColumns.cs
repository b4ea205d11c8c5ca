namespace Peft.MLNet.Generation;

/// <summary>The columns a generator reads and writes.</summary>
/// <param name="Prompt">The prompt (or source) text.</param>
/// <param name="Completion">The text to learn to produce (training only).</param>
/// <param name="Output">The generated text written.</param>
/// <param name="TaskId">The Int32 task id column (multitask prompt tuning), or null.</param>
internal sealed record GenerationColumns(string Prompt, string Completion, string Output, string? TaskId = null);
