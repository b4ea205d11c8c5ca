using BenchmarkDotNet.Attributes;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// SGEMM throughput, ours against OpenBLAS (AVX-512 kernels), for square sizes and the shapes of
/// a GPT-2-small linear layer: x·Wᵀ (nn.Linear, weight [N, K]) and x·W (Conv1D / gradient layout).
/// </summary>
[Config(typeof(ShortJobConfig))]
public class GemmBenchmarks : IFlopCount
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>"M,N,K".</summary>
    [Params("256,256,256", "512,512,512", "1024,1024,1024", "2048,2048,2048",
        "128,768,768", "512,768,768", "512,3072,768", "512,768,3072",
        "1,768,768", "8,3072,768")]
    public string Shape { get; set; } = "256,256,256";

    /// <summary>True: x·Wᵀ with W stored [N, K] (nn.Linear). False: x·W with W stored [K, N].</summary>
    [Params(true, false)]
    public bool TransposedWeight { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private (int M, int N, int K) Dims
    {
        get
        {
            var p = Shape.Split(',').Select(int.Parse).ToArray();
            return (p[0], p[1], p[2]);
        }
    }

    public double FlopsPerInvocation => 2.0 * Dims.M * Dims.N * Dims.K;

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        var r = new Random(1);
        _a = Enumerable.Range(0, m * k).Select(_ => (float)r.NextDouble()).ToArray();
        _b = Enumerable.Range(0, n * k).Select(_ => (float)r.NextDouble()).ToArray();
        _c = new float[m * n];
        WorkerPool.SetMaxDegree(Threads);
        OpenBlas.SetThreads(Threads);
    }

    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm()
    {
        var (m, n, k) = Dims;
        OpenBlas.Sgemm(false, TransposedWeight, m, n, k, _a, k, _b, TransposedWeight ? k : n, _c, n);
    }

    [Benchmark]
    public void PeftGemm()
    {
        var (m, n, k) = Dims;
        Gemm.Multiply(false, TransposedWeight, m, n, k, 1f, _a, k, _b, TransposedWeight ? k : n, 0f, _c, n);
    }
}
