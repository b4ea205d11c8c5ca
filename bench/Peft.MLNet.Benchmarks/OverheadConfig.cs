using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Peft.MLNet.Benchmarks;

/// <summary>A short job (each Fit takes about a second), ratios within each category, allocations reported.</summary>
public sealed class OverheadConfig : ManualConfig
{
    public OverheadConfig()
    {
        AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(9).WithLaunchCount(1).WithId("overhead"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        WithOptions(ConfigOptions.JoinSummary);
    }
}
