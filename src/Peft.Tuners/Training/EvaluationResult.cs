namespace Peft.Tuners.Training;

/// <summary>Loss over an evaluation set, averaged over target tokens, and its perplexity.</summary>
/// <param name="Loss">Mean cross-entropy per target token.</param>
/// <param name="Perplexity">exp(Loss).</param>
/// <param name="Tokens">Target tokens counted.</param>
public sealed record EvaluationResult(double Loss, double Perplexity, long Tokens);
