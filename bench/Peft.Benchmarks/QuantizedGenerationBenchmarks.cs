using BenchmarkDotNet.Attributes;
using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Generation;
using Peft.Transformers.Quantization;

namespace Peft.Benchmarks;

/// <summary>
/// Greedy KV-cached generation of 32 new tokens after a 16-token prompt on a gpt2-small-shaped
/// model with random weights, its block linear layers float32, int8 or NF4 (the tied embedding /
/// LM head stays float32), batch 1 and 8. Tokens per second = batch·32 / mean time; the resident
/// weight bytes are printed by <c>quant decode</c> of the quick check.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class QuantizedGenerationBenchmarks
{
    private CausalGenerator _generator = null!;
    private IntTensor _prompt = null!;

    /// <summary>Weight storage of the block linear layers.</summary>
    [Params("float32", "int8", "nf4")]
    public string Format { get; set; } = "float32";

    /// <summary>Sequences generated together.</summary>
    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>Builds and quantizes the model.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var model = QuantizedQuickCheck.Gpt2Small();
        if (Format != "float32") ModelQuantization.Quantize(model, Format == "int8" ? QuantizationFormat.Int8 : QuantizationFormat.Nf4);
        _generator = new CausalGenerator(model);
        var r = new Random(1);
        _prompt = IntTensor.FromArray(Enumerable.Range(0, Batch * 16).Select(_ => r.Next(1000)).ToArray(), Batch, 16);
    }

    /// <summary>One generation.</summary>
    [Benchmark]
    public int Generate32() =>
        _generator.GenerateGreedy(_prompt, null, new GenerationOptions { MaxNewTokens = 32, EosTokenIds = [] }).Shape[1];
}
