namespace Peft.Tuners.Training;

/// <summary>A progress report of a <see cref="Trainer"/> run.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Optimizer steps the run will take.</param>
/// <param name="Epoch">Fractional epochs done.</param>
/// <param name="Loss">Mean training loss since the previous report.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="TokensPerSecond">Input tokens (padding excluded) processed per second since the previous report.</param>
/// <param name="Elapsed">Time since the run started (this process).</param>
/// <param name="Remaining">Estimated time to the last step.</param>
/// <param name="EvaluationLoss">The evaluation loss when this report follows an evaluation, else null.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Epoch, float Loss, float LearningRate, double TokensPerSecond,
    TimeSpan Elapsed, TimeSpan Remaining, float? EvaluationLoss = null);
