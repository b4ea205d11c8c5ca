// Types the README's blocks assume the reader has written; in the snippets' namespace so the blocks need no using for them.
namespace ReadmeSnippets;

/// <summary>The ML.NET block's input row: a review and its sentiment.</summary>
public sealed class Review
{
    public string Text { get; set; } = "";

    public string Sentiment { get; set; } = "";
}

/// <summary>The ML.NET block's prediction engine output.</summary>
public sealed class ReviewPrediction
{
    public string PredictedSentiment { get; set; } = "";

    public float[] Score { get; set; } = [];
}
