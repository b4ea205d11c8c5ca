using System.Text.Json.Nodes;

namespace Peft.MLNet.Generation;

/// <summary>The columns a generator reads and writes.</summary>
/// <param name="Prompt">The prompt (or source) text.</param>
/// <param name="Completion">The text to learn to produce (training only).</param>
/// <param name="Output">The generated text written.</param>
/// <param name="TaskId">The Int32 task id column (multitask prompt tuning), or null.</param>
internal sealed record GenerationColumns(string Prompt, string Completion, string Output, string? TaskId = null)
{
    /// <summary>The columns as the saved state records them.</summary>
    public JsonObject ToJson() => new() { ["prompt"] = Prompt, ["completion"] = Completion, ["output"] = Output, ["task_id"] = TaskId };

    /// <summary>Reads <see cref="ToJson"/>'s object.</summary>
    /// <exception cref="InvalidDataException">A column name is missing.</exception>
    public static GenerationColumns FromJson(JsonObject json) => new(
        Name(json, "prompt"), Name(json, "completion"), Name(json, "output"), json["task_id"]?.GetValue<string>());

    private static string Name(JsonObject json, string key) =>
        json[key]?.GetValue<string>() ?? throw new InvalidDataException($"The saved generator's columns have no '{key}'; save the model again.");
}
