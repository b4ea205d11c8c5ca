using Peft.Tuners.Training;

namespace Peft.Cli.Training;

/// <summary>
/// Shows a training run's progress: <see cref="Report"/> is called on the training thread after
/// each logged step and each evaluation. <see cref="Run"/> wraps the run (a live display needs to
/// own the terminal while it lasts).
/// </summary>
internal abstract class TrainingDisplay(int stepsPerEpoch, int epochs) : IProgress<TrainingProgress>
{
    protected int StepsPerEpoch { get; } = stepsPerEpoch;

    protected int Epochs { get; } = epochs;

    /// <summary>The 1-based epoch a step belongs to.</summary>
    protected int EpochOf(int step) => Math.Min(Epochs, Math.Max(1, ((step - 1) / StepsPerEpoch) + 1));

    public abstract void Report(TrainingProgress value);

    /// <summary>A line for a message outside the progress (resuming, results).</summary>
    public abstract void Message(string text);

    public virtual T Run<T>(Func<T> training) => training();

    protected static string Eta(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture)
        : t.ToString(@"mm\:ss", System.Globalization.CultureInfo.InvariantCulture);
}
