using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Gpt2;

namespace Peft.Benchmarks;

/// <summary>
/// Greedy KV-cached generation of 32 new tokens after a 16-token prompt on GPT-2-shaped models
/// with random weights (float32): gpt2-small (d=768, 12 layers, vocab 50257) and a 4-layer d=256
/// model, batch 1 and 8, dynamic and static cache. Tokens per second = batch·32 / mean time.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class GenerationBenchmarks
{
    private CausalGenerator _generator = null!;
    private IntTensor _prompt = null!;

    [Params("gpt2-small", "d256-l4")]
    public string Size { get; set; } = "gpt2-small";

    [Params(1, 8)]
    public int Batch { get; set; }

    [Params(false, true)]
    public bool StaticCache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var shape = Size == "gpt2-small"
            ? new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = 12, ["n_head"] = 12, ["n_positions"] = 1024 }
            : new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = 8192, ["n_embd"] = 256, ["n_layer"] = 4, ["n_head"] = 4, ["n_positions"] = 1024 };
        var model = new Gpt2Model(ModelConfig.Parse(shape.ToJsonString(), "benchmark config"));
        ModelInitializer.InitializeRandom(model.Parameters, 1);
        _generator = new CausalGenerator(model);
        var r = new Random(1);
        _prompt = IntTensor.FromArray(Enumerable.Range(0, Batch * 16).Select(_ => r.Next(1000)).ToArray(), Batch, 16);
    }

    [Benchmark]
    public int Generate32() =>
        _generator.GenerateGreedy(_prompt, null, new GenerationOptions { MaxNewTokens = 32, EosTokenIds = [], UseStaticCache = StaticCache }).Shape[1];
}
