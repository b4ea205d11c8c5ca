namespace Peft.Tuners.Training;

/// <summary>What a <see cref="Trainer"/> run did.</summary>
/// <param name="Steps">Optimizer steps completed (in total, counting a resumed run's earlier steps).</param>
/// <param name="FinalLoss">Mean training loss over the last reporting window.</param>
/// <param name="BestEvaluation">The best evaluation, or null without evaluation data.</param>
/// <param name="BestStep">The step of the best evaluation, or null.</param>
/// <param name="StoppedEarly">True when early stopping ended the run.</param>
public sealed record TrainingResult(int Steps, float FinalLoss, EvaluationResult? BestEvaluation, int? BestStep, bool StoppedEarly);
