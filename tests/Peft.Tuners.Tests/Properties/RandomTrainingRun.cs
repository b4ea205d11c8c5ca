using CsCheck;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random short training run: rows of random lengths (with a task each), batch size, gradient
/// accumulation, 2-3 epochs, schedule and warmup, learning rate, clipping, shuffling, LoRA dropout,
/// and the step after which the run is interrupted.
/// </summary>
internal sealed record RandomTrainingRun(int[][] Rows, int[] RowTasks, int BatchSize, int Accumulation, int Epochs, LearningRateScheduleKind Schedule,
    int WarmupSteps, float LearningRate, bool Clip, bool Shuffle, float LoraDropout, int InterruptSeed)
{
    public static Gen<RandomTrainingRun> Generate { get; } =
        from rows in Gen.Int[0, 1000].Array[3, 6].Array[2, 6]
        from tasks in Gen.Int[0, 2].Array[rows.Length]
        from settings in Gen.Select(Gen.Int[1, 4], Gen.Int[1, 2], Gen.Int[2, 3],
            Gen.OneOf<LearningRateScheduleKind>(LearningRateScheduleKind.Constant, LearningRateScheduleKind.Linear, LearningRateScheduleKind.Cosine),
            Gen.Int[0, 2], Gen.Single[0.005f, 0.1f])
        from flags in Gen.Select(Gen.Bool, Gen.Bool, Gen.OneOf<float>(0f, 0.3f), Gen.Int[0, 1000])
        select new RandomTrainingRun(rows, tasks, settings.Item1, settings.Item2, settings.Item3, settings.Item4, settings.Item5, settings.Item6,
            flags.Item1, flags.Item2, flags.Item3, flags.Item4);

    public TrainerOptions Options() => new()
    {
        BatchSize = BatchSize, GradientAccumulationSteps = Accumulation, Epochs = Epochs, Schedule = Schedule, WarmupSteps = WarmupSteps,
        LearningRate = LearningRate, MaxGradNorm = Clip ? 1f : 0f, Shuffle = Shuffle, LogEverySteps = 1, Seed = (ulong)InterruptSeed,
    };

    /// <summary>Optimizer steps of the whole run (as the trainer counts them).</summary>
    public int TotalSteps => Epochs * (((Rows.Length + BatchSize - 1) / BatchSize + Accumulation - 1) / Accumulation);

    /// <summary>The step whose report cancels the first run: 1 to TotalSteps − 1, so both halves train.</summary>
    public int InterruptAt => 1 + InterruptSeed % (TotalSteps - 1);

    /// <summary>
    /// The rows for a model of <paramref name="vocab"/> ids, each with a task below <paramref name="tasks"/> (null: none);
    /// encoder-decoder rows take their last two ids as the target.
    /// </summary>
    public List<TrainingExample> Examples(int vocab, bool encoderDecoder, int? tasks) =>
        Rows.Select((raw, i) =>
        {
            int[] ids = [.. raw.Select(id => 1 + id % (vocab - 1))];
            int? task = RowTasks[i] % tasks;
            return encoderDecoder ? new TrainingExample(ids[..^2], ids[^2..], task) : new TrainingExample(ids, null, task);
        }).ToList();

    public override string ToString() =>
        $"RandomTrainingRun {{ Rows = [{string.Join(" | ", Rows.Select(r => string.Join(",", r)))}], RowTasks = [{string.Join(",", RowTasks)}], " +
        $"BatchSize = {BatchSize}, Accumulation = {Accumulation}, Epochs = {Epochs}, Schedule = {Schedule}, WarmupSteps = {WarmupSteps}, " +
        $"LearningRate = {LearningRate:R}, Clip = {Clip}, Shuffle = {Shuffle}, LoraDropout = {LoraDropout}, InterruptSeed = {InterruptSeed} }}";
}
