using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Tuners.Adapters;

namespace Peft.Cli.Commands;

/// <summary>
/// A model folder loaded as whichever kind its config.json names, with its <c>--adapter</c>
/// folders applied (in order), and the inputs each kind needs built from the adapters.
/// </summary>
internal sealed class LoadedModel
{
    private LoadedModel(CausalLanguageModel? causal, T5Model? seq2seq, AdapterStack adapters, TimeSpan loadTime)
    {
        Causal = causal;
        Seq2Seq = seq2seq;
        Adapters = adapters;
        LoadTime = loadTime;
    }

    public CausalLanguageModel? Causal { get; }

    public T5Model? Seq2Seq { get; }

    public AdapterStack Adapters { get; }

    public TimeSpan LoadTime { get; }

    public static LoadedModel Load(CommandLine args)
    {
        string folder = args.Required("--model");
        if (!Directory.Exists(folder)) throw new UsageException($"{args.Command}: model folder not found: {folder}");
        foreach (string adapter in args.All("--adapter"))
            if (!File.Exists(Path.Combine(adapter, AdapterFiles.ConfigFileName)))
                throw new UsageException($"{args.Command}: --adapter {adapter}: no {AdapterFiles.ConfigFileName} there.");
        var clock = Stopwatch.StartNew();
        var config = ModelConfig.Load(folder);
        if (config.IsEncoderDecoder)
        {
            var t5 = ModelLoader.LoadSeq2Seq(folder);
            var stack = AdapterStack.Load(args.All("--adapter"), t5.Config, t5.TokenEmbeddings, t5.LinearLayers, message => Console.Error.WriteLine($"peft: warning: {message}"));
            return new LoadedModel(null, t5, stack, clock.Elapsed);
        }
        var causal = ModelLoader.LoadCausal(folder);
        var adapters = AdapterStack.Load(args.All("--adapter"), causal.Config, causal.TokenEmbeddings, causal.LinearLayers, message => Console.Error.WriteLine($"peft: warning: {message}"));
        return new LoadedModel(causal, null, adapters, clock.Elapsed);
    }

    /// <summary>The attention mask with <paramref name="count"/> leading ones per row (PEFT's virtual positions).</summary>
    public static IntTensor ExtendMask(IntTensor? mask, int batch, int length, int count)
    {
        var result = IntTensor.Zeros(new Shape(batch, count + length));
        for (int b = 0; b < batch; b++)
        {
            result.Span.Slice(b * (count + length), count).Fill(1);
            if (mask is null) result.Span.Slice(b * (count + length) + count, length).Fill(1);
            else mask.Span.Slice(b * length, length).CopyTo(result.Span.Slice(b * (count + length) + count));
        }
        return result;
    }

    /// <summary>The prefix for a batch (when a prefix adapter is loaded).</summary>
    public PrefixKeyValues? Prefix(int batch) => Adapters.Prefix(batch);
}
