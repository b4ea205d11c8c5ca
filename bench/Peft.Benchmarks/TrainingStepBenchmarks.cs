using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Gpt2;

namespace Peft.Benchmarks;

/// <summary>
/// One full training step (forward, backward, AdamW) of a 2-layer d=256 GPT-2-shaped model at
/// batch 4 × 128 tokens, every parameter trainable; the memory diagnoser reports the bytes the
/// step allocates (buffers come from the pool after the first step).
/// </summary>
[Config(typeof(ShortJobConfig))]
public class TrainingStepBenchmarks : IFlopCount
{
    private const int Batch = 4, Length = 128;
    private Gpt2Model _model = null!;
    private AdamW _optimizer = null!;
    private IntTensor _ids = null!;

    // Forward ≈ 2·params·tokens, backward ≈ 2× forward (attention scores excluded).
    public double FlopsPerInvocation => 6.0 * (2 * 12 * 256 * 256 + 8192 * 256) * Batch * Length;

    [GlobalSetup]
    public void Setup()
    {
        var config = ModelConfig.Parse(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 8192, ["n_embd"] = 256, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 512,
        }.ToJsonString(), "benchmark config");
        _model = new Gpt2Model(config);
        ModelInitializer.InitializeRandom(_model.Parameters, 1);
        _model.Parameters.SetRequiresGrad(true);
        _optimizer = new AdamW(_model.Parameters.All.Select(p => p.Tensor), 1e-4f);
        var r = new Random(1);
        _ids = IntTensor.FromArray(Enumerable.Range(0, Batch * Length).Select(_ => r.Next(8192)).ToArray(), Batch, Length);
    }

    [Benchmark]
    public float TrainingStep()
    {
        using var scope = new TensorScope();
        var output = _model.Forward(inputIds: _ids, labels: _ids);
        _optimizer.ZeroGrad();
        output.Loss!.Backward();
        _optimizer.Step();
        return output.Loss.Item();
    }
}
