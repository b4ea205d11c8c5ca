namespace Peft.Cli.Data;

/// <summary>A row after its format has read it, before tokenization.</summary>
/// <param name="Kind">What it trains.</param>
/// <param name="Input">The prompt, text or source.</param>
/// <param name="Target">The completion or target (null for text and classification rows).</param>
/// <param name="Label">The class label (classification rows).</param>
/// <param name="TaskId">The task for multitask prompt tuning (field <c>task_id</c>), or null.</param>
/// <param name="Location">Where the row came from.</param>
public sealed record TextExample(ExampleKind Kind, string Input, string? Target, string? Label, int? TaskId, DataLocation Location);
