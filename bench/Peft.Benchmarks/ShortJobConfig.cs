using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Peft.Benchmarks;

/// <summary>A short job (the suites must finish in minutes on 2 cores) with allocation reporting.</summary>
public sealed class ShortJobConfig : ManualConfig
{
    public ShortJobConfig()
    {
        AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1).WithId("short"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new GflopsColumn());
        AddColumn(StatisticColumn.Min);
    }
}
