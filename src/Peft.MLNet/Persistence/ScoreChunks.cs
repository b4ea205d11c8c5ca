namespace Peft.MLNet.Persistence;

/// <summary>
/// Class scores laid out so that a model loaded with <c>Model.Load</c> still has a known-size
/// Score vector (ML.NET's evaluators need one): a custom mapping's vector sizes are fixed by its
/// output class, so the scores go into chunks of 512, 256, …, 2 and 1 values, and ML.NET's
/// Concatenate joins exactly the chunks whose sizes add up to the class count (its binary digits).
/// </summary>
internal static class ScoreChunks
{
    /// <summary>Chunk sizes, largest first.</summary>
    public static readonly int[] Sizes = [512, 256, 128, 64, 32, 16, 8, 4, 2, 1];

    /// <summary>The largest class count the chunks can hold.</summary>
    public static int MaxClasses => Sizes.Sum();

    /// <summary>The column holding the chunk of <paramref name="size"/> values.</summary>
    public static string Column(int size) => $"PeftMLNetScores{size}";

    /// <summary>The chunk columns whose sizes add up to <paramref name="classes"/>, largest first (Concatenate's inputs).</summary>
    public static string[] ColumnsFor(int classes) => Sizes.Where(s => (classes & s) != 0).Select(Column).ToArray();

    /// <summary>Every chunk column (dropped after concatenation).</summary>
    public static string[] AllColumns => Sizes.Select(Column).ToArray();
}
