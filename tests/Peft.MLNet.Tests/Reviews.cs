namespace Peft.MLNet.Tests;

/// <summary>A small three-class sentiment set: each row's class is told by one word.</summary>
internal static class Reviews
{
    private static readonly (string Word, string Label)[] Words =
    [
        ("great", "positive"), ("lovely", "positive"), ("superb", "positive"), ("good", "positive"),
        ("awful", "negative"), ("boring", "negative"), ("poor", "negative"), ("bad", "negative"),
        ("okay", "neutral"), ("average", "neutral"), ("fine", "neutral"), ("so-so", "neutral"),
    ];

    private static readonly string[] Templates = ["the film was {0}", "{0} acting", "a {0} story"];

    public static Review[] Rows { get; } =
        [.. from t in Templates from w in Words
            select new Review { Text = string.Format(System.Globalization.CultureInfo.InvariantCulture, t, w.Word), Sentiment = w.Label }];
}

/// <summary>A row as users write them: text and a string label.</summary>
public sealed class Review
{
    public string Text { get; set; } = "";

    public string Sentiment { get; set; } = "";
}

/// <summary>What a prediction engine returns.</summary>
public sealed class ReviewPrediction
{
    public string PredictedSentiment { get; set; } = "";

    public float[] Score { get; set; } = [];
}
