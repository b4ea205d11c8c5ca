using BenchmarkDotNet.Attributes;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>The CPU's peak Vector512 FMA rate on 1 and 2 threads: the ceiling for the SGEMM figures.</summary>
[Config(typeof(GemmBenchmarkConfig))]
public class GemmPeakFmaBenchmarks
{
    /// <summary>Threads running the FMA loop.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Sets the worker pool's degree.</summary>
    [GlobalSetup]
    public void GlobalSetup() => WorkerPool.SetMaxDegree(Threads);

    /// <summary>Restores the worker pool's degree.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => WorkerPool.SetMaxDegree(Environment.ProcessorCount);

    /// <summary>10 independent FMA chains per thread, registers only.</summary>
    [Benchmark]
    public void PeakFma() => Peft.Benchmarks.PeakFma.Run(Threads);
}
