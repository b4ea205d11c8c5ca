namespace Peft.Llama.Benchmarks;

/// <summary>One generation's rates in tokens/s (decode: the tokens after the first; prefill: the prompt tokens up to
/// the first new token) and its new ids per row.</summary>
internal sealed record RunResult(double DecodeRate, double PrefillRate, int[][] Ids);
