using Peft.Benchmarks.Shared;

namespace Peft.Torch.Compare;

/// <summary>The per-round results of one row on both sides.</summary>
internal sealed class RowSamples(ComparisonRow row)
{
    public ComparisonRow Row { get; } = row;

    public List<RunResult> Ours { get; } = [];

    public List<RunResult> Torch { get; } = [];

    /// <summary>Speed of ours relative to TorchSharp, above 1 when ours is faster (time ratio for steps, rate ratio for decoding).</summary>
    public double SpeedRatio
    {
        get
        {
            double ours = Statistics.Median(Ours.Select(r => r.Value)), torch = Statistics.Median(Torch.Select(r => r.Value));
            return Row.IsTraining ? torch / ours : ours / torch;
        }
    }

    /// <summary>TorchSharp's peak RSS over ours, above 1 when ours needs less.</summary>
    public double MemoryRatio => Statistics.Median(Torch.Select(r => r.PeakMiB)) / Statistics.Median(Ours.Select(r => r.PeakMiB));
}
