namespace MLNetSample;

/// <summary>
/// The embedded labelled data: short reviews built from opinion words and sentence frames. The
/// test rows use frames the training rows never use, so accuracy on them measures what the
/// adapter learned about the words, not the sentences.
/// </summary>
internal static class Reviews
{
    private static readonly (string Word, string Sentiment)[] Words =
    [
        ("great", "positive"), ("wonderful", "positive"), ("superb", "positive"), ("lovely", "positive"), ("brilliant", "positive"), ("excellent", "positive"),
        ("awful", "negative"), ("boring", "negative"), ("terrible", "negative"), ("dreadful", "negative"), ("poor", "negative"), ("dull", "negative"),
        ("okay", "neutral"), ("average", "neutral"), ("ordinary", "neutral"), ("plain", "neutral"), ("so-so", "neutral"), ("acceptable", "neutral"),
    ];

    private static readonly string[] TrainFrames = ["the film was {0}.", "a {0} book.", "the meal was {0}.", "what a {0} show.", "the story felt {0}."];
    private static readonly string[] TestFrames = ["honestly, it was {0}.", "the music was {0}.", "i found the ending {0}."];

    public static SentimentModel.ModelInput[] Train { get; } = Build(TrainFrames);

    public static SentimentModel.ModelInput[] Test { get; } = Build(TestFrames);

    private static SentimentModel.ModelInput[] Build(string[] frames) =>
        [.. from f in frames from w in Words
            select new SentimentModel.ModelInput { Text = string.Format(System.Globalization.CultureInfo.InvariantCulture, f, w.Word),
                Sentiment = w.Sentiment }];
}
