using BenchmarkDotNet.Attributes;

namespace Peft.Benchmarks;

/// <summary>
/// Token-by-token generation: M = 1 and 8 rows through the same layer shapes (768→768,
/// 768→3072, 3072→768), both weight layouts, Peft (strided and pre-packed) against OpenBLAS.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
public class GemmSmallMBenchmarks : GemmOperands
{
    /// <summary>The shapes measured.</summary>
    public static IEnumerable<GemmShape> Shapes() =>
    [
        new(1, 768, 768), new(1, 768, 3072), new(1, 3072, 768),
        new(8, 768, 768), new(8, 768, 3072), new(8, 3072, 768),
    ];

    /// <summary>The problem size.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; }

    /// <summary>Threads for both libraries.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates operands and packs the weight.</summary>
    [GlobalSetup]
    public void GlobalSetup() => Setup(Shape.M, Shape.K, Shape.N, Threads);

    /// <summary>Frees operands.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => Cleanup();

    /// <summary>Peft x·W, W stored [K, N].</summary>
    [Benchmark]
    public void Peft_xW() => PeftXW();

    /// <summary>Peft x·Wᵀ, W stored [N, K] and packed per call (a trainable weight).</summary>
    [Benchmark]
    public void Peft_xWt() => PeftXWt();

    /// <summary>Peft x·Wᵀ through the pre-packed frozen weight (what Ops.Linear does).</summary>
    [Benchmark(Baseline = true)]
    public void Peft_xWt_Packed() => PeftXWtPacked();

    /// <summary>OpenBLAS x·W.</summary>
    [Benchmark]
    public void OpenBLAS_xW() => OpenBlasXW();

    /// <summary>OpenBLAS x·Wᵀ.</summary>
    [Benchmark]
    public void OpenBLAS_xWt() => OpenBlasXWt();
}
