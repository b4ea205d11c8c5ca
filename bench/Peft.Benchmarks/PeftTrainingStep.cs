using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Quantization;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Benchmarks;

/// <summary>
/// One PEFT training step (forward, backward, AdamW on the adapter only) on a gpt2-small-shaped
/// model (12 layers, d=768, vocab 50257, random weights) at batch 4 × 128 unless told otherwise, the setting of
/// ../shared/bench/torch_gpt_peft.py: prefix 20 tokens, LoRA r=8 on c_attn, and the other methods.
/// </summary>
internal sealed class PeftTrainingStep
{
    public const int Batch = 4, Length = 128;

    private readonly PeftModel _model;
    private readonly AdamW _optimizer;
    private readonly IntTensor _ids;

    private readonly bool _chunkedLoss;

    public PeftTrainingStep(string method, bool checkpointing = false, bool chunkedLoss = false,
        Peft.Tensors.Quantization.QuantizationFormat quantization = Peft.Tensors.Quantization.QuantizationFormat.None,
        int batch = Batch, int length = Length, BenchModelShape? shape = null)
    {
        if (batch < 1 || length < 2) throw new ArgumentException($"Batch must be at least 1 and length at least 2; got {batch} × {length}.");
        _chunkedLoss = chunkedLoss;
        shape ??= BenchModelShape.Gpt2;
        var baseModel = ModelLoader.CreateCausal(shape.Config());
        BaseParameters = baseModel.Parameters.ElementCount;
        ModelInitializer.InitializeRandom(baseModel.Parameters, 1);
        if (quantization != Peft.Tensors.Quantization.QuantizationFormat.None) ModelQuantization.Quantize(baseModel, quantization);
        _model = new PeftModel(baseModel);
        _model.AddAdapter(method, Config(method, shape.Embedding), seed: 2);
        if (_model[method] is LoraAdapter lora) foreach (var l in lora.Layers) l.B.Span.Fill(0.01f);
        baseModel.GradientCheckpointing = checkpointing;
        _optimizer = new AdamW(_model.TrainableParameters, 1e-3f);
        var r = new Random(1);
        _ids = IntTensor.FromArray(Enumerable.Range(0, batch * length).Select(_ => r.Next(shape.Vocabulary)).ToArray(), batch, length);
    }

    public static string[] Methods => ["prefix", "lora", "prompt", "p_tuning", "ia3"];

    private static IPeftConfig Config(string method, int embedding) => method switch
    {
        "prefix" => new PrefixTuningConfig { NumVirtualTokens = 20 },
        "lora" => new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn") },
        "prompt" => new PromptTuningConfig { NumVirtualTokens = 20 },
        "p_tuning" => new PTuningConfig { NumVirtualTokens = 20, EncoderHiddenSize = embedding },
        "ia3" => new Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"), FeedforwardModules = TargetModules.FromNames("mlp.c_proj") },
        _ => throw new ArgumentException($"Unknown method '{method}'; use one of {string.Join(", ", Methods)}."),
    };

    public long TrainableParameters => _model.CountParameters().Trainable;

    /// <summary>Number of the base model's (frozen) parameters.</summary>
    public long BaseParameters { get; }

    /// <summary>Seconds of the forward pass alone, the forward with the tape, and the backward pass (one step each).</summary>
    public (double Inference, double Forward, double Backward) Phases()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (Autograd.NoGrad())
        using (new TensorScope())
            _model.Loss(_ids, _ids, chunked: _chunkedLoss);
        double inference = clock.Elapsed.TotalSeconds;
        using var scope = new TensorScope();
        _optimizer.ZeroGrad();
        clock.Restart();
        var loss = _model.Loss(_ids, _ids, chunked: _chunkedLoss).Loss;
        double forward = clock.Elapsed.TotalSeconds;
        clock.Restart();
        loss.Backward();
        return (inference, forward, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Seconds of the body (final hidden states) and of body + LM head + loss, without a tape.</summary>
    public (double Body, double Full) ForwardSplit()
    {
        using var noGrad = Autograd.NoGrad();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (new TensorScope()) ((CausalLanguageModel)_model.BaseModel).LastHiddenState(inputIds: _ids);
        double body = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (new TensorScope()) ((CausalLanguageModel)_model.BaseModel).Forward(inputIds: _ids, labels: _ids);
        return (body, clock.Elapsed.TotalSeconds);
    }

    public float Step()
    {
        using var scope = new TensorScope();
        _optimizer.ZeroGrad();
        var loss = _model.Loss(_ids, _ids, chunked: _chunkedLoss).Loss;
        loss.Backward();
        _optimizer.Step();
        return loss.Item();
    }
}
