using BenchmarkDotNet.Attributes;

namespace Peft.Benchmarks;

/// <summary>Square SGEMM C = A·B, Peft against OpenBLAS, on 1 and 2 threads.</summary>
[Config(typeof(GemmBenchmarkConfig))]
public class GemmSquareBenchmarks : GemmOperands
{
    /// <summary>M = K = N.</summary>
    [Params(256, 512, 1024, 2048)]
    public int Size { get; set; }

    /// <summary>Threads for both libraries.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates operands.</summary>
    [GlobalSetup]
    public void GlobalSetup() => Setup(Size, Size, Size, Threads);

    /// <summary>Frees operands.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => Cleanup();

    /// <summary>Peft packed/blocked SGEMM.</summary>
    [Benchmark(Baseline = true)]
    public void Peft() => PeftXW();

    /// <summary>OpenBLAS AVX-512 SGEMM.</summary>
    [Benchmark]
    public void OpenBLAS() => OpenBlasXW();
}
