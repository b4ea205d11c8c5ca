namespace Peft.MLNet.Benchmarks;

/// <summary>A labelled review (classification rows).</summary>
public sealed class ReviewRow
{
    public string Text { get; set; } = "";

    public string Sentiment { get; set; } = "";
}

/// <summary>A classification prediction.</summary>
public sealed class ReviewScore
{
    public float[] Score { get; set; } = [];
}

/// <summary>A prompt (generation rows).</summary>
public sealed class PromptRow
{
    public string Prompt { get; set; } = "";

    public string Completion { get; set; } = "";
}

/// <summary>A generation prediction.</summary>
public sealed class PromptAnswer
{
    public string GeneratedText { get; set; } = "";
}

/// <summary>The rows every benchmark uses: deterministic texts of 30 to 60 bytes.</summary>
internal static class BenchRows
{
    private static readonly string[] Words = ["great", "awful", "fine", "lovely", "boring", "average", "superb", "poor", "okay"];
    private static readonly string[] Labels = ["positive", "negative", "neutral"];

    public static ReviewRow[] Reviews(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ReviewRow
        {
            Text = $"review {i}: the film was {Words[i % 9]} and the music {Words[(i * 7) % 9]}" + new string('.', i % 13),
            Sentiment = Labels[i % 9 / 3],
        })];

    public static PromptRow[] Prompts(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new PromptRow { Prompt = $"question {i}: what was the film like? " + new string('?', i % 11),
            Completion = Words[i % 9] })];
}
