using BenchmarkDotNet.Attributes;

namespace Peft.Benchmarks;

/// <summary>
/// Time of one gpt2-small PEFT training step per method at batch 4 × 128 (see <see cref="PeftTrainingStep"/>):
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- --filter '*PeftTrainingStep*'</c>.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class PeftTrainingStepBenchmarks
{
    private PeftTrainingStep _step = null!;

    /// <summary>The PEFT method.</summary>
    [Params("prefix", "lora", "prompt", "p_tuning", "ia3")]
    public string Method { get; set; } = "prefix";

    [GlobalSetup]
    public void Setup() => _step = new PeftTrainingStep(Method, chunkedLoss: true); // the Trainer's default loss

    [Benchmark]
    public float TrainingStep() => _step.Step();
}
