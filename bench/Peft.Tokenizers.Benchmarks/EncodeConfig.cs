using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>A short job (2 cores, minutes per suite), allocations, MB/s and per-call columns, ratios within each category.</summary>
public sealed class EncodeConfig : ManualConfig
{
    public EncodeConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(9).WithLaunchCount(1).WithId("encode"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Min);
        AddColumn(ThroughputColumns.MegabytesPerSecond, ThroughputColumns.AllocatedPerCall);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
    }
}
