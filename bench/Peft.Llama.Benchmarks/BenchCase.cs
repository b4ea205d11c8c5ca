namespace Peft.Llama.Benchmarks;

/// <summary>
/// One row of the table: a decode configuration run for ours and for llama.cpp. Each run returns its decode and prefill
/// rates (tokens/s) and the generated ids, which the warm-up compares.
/// </summary>
internal sealed record BenchCase(string Name, Func<RunResult> Ours, Func<RunResult> Llama)
{
    public List<RunResult> OursRuns { get; } = [];

    public List<RunResult> LlamaRuns { get; } = [];

    public string Check { get; set; } = "";
}
