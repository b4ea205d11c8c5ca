namespace Peft.Torch.Compare;

/// <summary>The per-round results of one row on both sides.</summary>
internal sealed class RowSamples(ComparisonRow row)
{
    public ComparisonRow Row { get; } = row;

    public List<RunResult> Ours { get; } = [];

    public List<RunResult> Torch { get; } = [];

    /// <summary>Median of the round values (each already a median over the process's runs).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToList();
        if (s.Count == 0) return double.NaN;
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>Speed of ours relative to TorchSharp, above 1 when ours is faster (time ratio for steps, rate ratio for decoding).</summary>
    public double SpeedRatio
    {
        get
        {
            double ours = Median(Ours.Select(r => r.Value)), torch = Median(Torch.Select(r => r.Value));
            return Row.IsTraining ? torch / ours : ours / torch;
        }
    }

    /// <summary>TorchSharp's peak RSS over ours, above 1 when ours needs less.</summary>
    public double MemoryRatio => Median(Torch.Select(r => r.PeakMiB)) / Median(Ours.Select(r => r.PeakMiB));
}
