namespace Peft.Benchmarks.Shared;

/// <summary>Summaries of repeated measurements shared by the benchmark programs (linked source).</summary>
internal static class Statistics
{
    /// <summary>The median (the mean of the two middle values for an even count); NaN when there are none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
