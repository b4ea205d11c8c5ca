namespace MLNetSample;

/// <summary>The embedded pretraining text: plain sentences in which opinion words keep their usual company.</summary>
internal static class Corpus
{
    private static readonly string[] Sentences =
    [
        "I loved this film; it was wonderful from start to end.",
        "The book was great and the ending was lovely.",
        "What a superb meal, the soup was excellent and the bread was fresh.",
        "The show was brilliant, funny and kind.",
        "We had a fantastic time; the music was delightful.",
        "She said the story was beautiful and moving.",
        "This was a terrible film; the plot was awful and dull.",
        "The book was boring and the ending was poor.",
        "What a horrible meal, the soup was cold and the bread was stale.",
        "The show was dreadful, slow and rude.",
        "We had a miserable time; the music was painful.",
        "He said the story was bad and tedious.",
        "The film was okay, neither good nor bad.",
        "The book was average; some parts were fine, some were plain.",
        "The meal was ordinary, the soup was fine and the bread was fine too.",
        "The show was so-so; it was acceptable but forgettable.",
        "Good things make people happy; bad things make people sad.",
        "A great story leaves you smiling; an awful one leaves you bored.",
        "People praise what is excellent and complain about what is poor.",
        "An ordinary day is neither great nor terrible, just okay.",
    ];

    /// <summary>The sentences, repeated so that random windows see each many times.</summary>
    public static string Text { get; } = string.Join(" ", Enumerable.Repeat(string.Join(" ", Sentences), 8));
}
