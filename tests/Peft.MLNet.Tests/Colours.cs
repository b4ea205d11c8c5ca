namespace Peft.MLNet.Tests;

/// <summary>Six prompt/completion pairs a tiny model memorizes with LoRA on every linear layer.</summary>
internal static class Colours
{
    private static readonly string[] Things = ["sky", "grass", "snow", "sun", "sea", "rose"];
    private static readonly string[] Names = ["blue", "green", "white", "yellow", "teal", "red"];

    public static Question[] Rows { get; } = [.. Things.Select((t, i) => new Question { Prompt = $"colour of {t}? ", Completion = $"{Names[i]}." })];
}

/// <summary>A prompt and the completion to learn (Source/Target for sequence to sequence).</summary>
public sealed class Question
{
    public string Prompt { get; set; } = "";

    public string Completion { get; set; } = "";
}

/// <summary>What a generating prediction engine returns.</summary>
public sealed class Answer
{
    public string GeneratedText { get; set; } = "";
}
