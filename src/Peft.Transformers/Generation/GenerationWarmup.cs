using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Quantization;

namespace Peft.Transformers.Generation;

/// <summary>
/// Compiles what generating with a model runs before its weights are there. A fresh process otherwise spends its
/// first prompt in the JIT: the SIMD kernels are always compiled at first call (ReadyToRun cannot precompile them),
/// about a third of a second for gpt2-small on two cores. Started beside the load, the compiling happens while the
/// load reads the file.
/// </summary>
public static class GenerationWarmup
{
    // A one-block stand-in with a small vocabulary: the same kernels at the same widths for a few milliseconds of work.
    private const int Layers = 1, Vocabulary = 512, PromptLength = 16, NewTokens = 3;

    /// <summary>
    /// Starts, on a thread-pool thread, a short greedy generation on a zero-weight copy of the network
    /// <paramref name="config"/> describes (one block, a small vocabulary, the same widths and the quantization
    /// <paramref name="options"/> or the folder's config asks for). Wait for it before generating, so the two do not
    /// share the cores.
    /// </summary>
    /// <param name="config">The model's configuration (its config.json).</param>
    /// <param name="options">The load options the model itself is loaded with, if any.</param>
    /// <param name="cancellationToken">Stops the warm-up between its steps.</param>
    /// <returns>The warm-up; it completes when the generation has run.</returns>
    public static Task StartAsync(ModelConfig config, LoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Task.Run(() => Run(config, options, cancellationToken), cancellationToken);
    }

    private static void Run(ModelConfig config, LoadOptions? options, CancellationToken cancellationToken)
    {
        var small = config.Resized(Layers, Math.Min(config.VocabSize, Vocabulary));
        var format = options?.Quantization is { } asked && asked != QuantizationFormat.None ? asked
            : small.GetRawField("quantization_config") is { } saved ? QuantizationConfig.Parse(saved, small.Source).Format
            : QuantizationFormat.None;
        var ids = new int[PromptLength];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % small.VocabSize;
        var prompt = IntTensor.FromArray(ids, 1, PromptLength);
        var generation = new GenerationOptions
        {
            MaxNewTokens = NewTokens,
            EosTokenIds = [],
            StepCompleted = _ => cancellationToken.ThrowIfCancellationRequested(),
        };
        if (small.IsEncoderDecoder)
        {
            var t5 = new T5Model(small);
            if (format != QuantizationFormat.None) ModelQuantization.Quantize(t5, format);
            new Seq2SeqGenerator(t5).GenerateGreedy(prompt, null, generation);
            return;
        }
        var model = ModelLoader.CreateCausal(small);
        if (format != QuantizationFormat.None)
        {
            ModelQuantization.Quantize(model, format);
            model.QuantizeHead(format);
        }
        new CausalGenerator(model).GenerateGreedy(prompt, null, generation);
    }
}
