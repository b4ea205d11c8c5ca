using BenchmarkDotNet.Attributes;
using Peft.Tensors;
using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// y = x·Wᵀ for GPT-2-small layer shapes (768→768, 768→3072) at M = 1, 8 and 512 rows with the
/// weight in float32 (pre-packed, what Ops.Linear does for a frozen weight), int8 (VNNI), NF4, BF16 and F16,
/// on 1 and 2 threads. GFLOP/s count 2·M·N·K for every format.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
public class QuantizedGemmBenchmarks
{
    private float[] _x = [];
    private float[] _y = [];
    private PackedMatrix? _packed;
    private QuantizedMatrix? _quantized;

    /// <summary>The shapes measured (K = in, N = out).</summary>
    public static IEnumerable<GemmShape> Shapes() =>
    [
        new(1, 768, 768), new(1, 768, 3072), new(8, 768, 768), new(8, 768, 3072), new(512, 768, 768), new(512, 768, 3072),
    ];

    /// <summary>The problem size.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; }

    /// <summary>Weight storage.</summary>
    [Params("float32", "int8", "nf4", "bf16", "f16")]
    public string Format { get; set; } = "float32";

    /// <summary>Worker threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        WorkerPool.SetMaxDegree(Threads);
        int m = Shape.M, k = Shape.K, n = Shape.N;
        var rng = new Random(1);
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = ((float)rng.NextDouble() - 0.5f) * 0.05f;
        _x = new float[m * k];
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)rng.NextDouble() - 0.5f;
        _y = new float[m * n];
        var weight = Tensor.FromArray(w, n, k);
        _packed = Format == "float32" ? PackedMatrix.Pack(true, k, n, w, k) : null;
        _quantized = Format switch
        {
            "int8" => Int8Matrix.Quantize(weight),
            "nf4" => Nf4Matrix.Quantize(weight),
            "bf16" => HalfMatrix.Round(weight, QuantizationFormat.BFloat16),
            "f16" => HalfMatrix.Round(weight, QuantizationFormat.Float16),
            _ => null,
        };
    }

    /// <summary>Restores the thread count.</summary>
    [GlobalCleanup]
    public void Cleanup() => WorkerPool.SetMaxDegree(Environment.ProcessorCount);

    /// <summary>One product.</summary>
    [Benchmark]
    public void Multiply()
    {
        if (_quantized is null) Gemm.Multiply(false, Shape.M, 1f, _x, Shape.K, _packed!, 0f, _y, Shape.N);
        else QuantizedGemm.MultiplyTransposed(Shape.M, _x, _quantized, _y);
    }
}
