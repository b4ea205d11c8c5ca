using System.Diagnostics;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;

namespace Peft.Cli.Commands;

/// <summary>A model folder loaded as whichever kind its config.json names, with the load time.</summary>
internal sealed class LoadedModel
{
    private LoadedModel(CausalLanguageModel? causal, T5Model? seq2seq, TimeSpan loadTime)
    {
        Causal = causal;
        Seq2Seq = seq2seq;
        LoadTime = loadTime;
    }

    public CausalLanguageModel? Causal { get; }

    public T5Model? Seq2Seq { get; }

    public TimeSpan LoadTime { get; }

    public static LoadedModel Load(CommandLine args)
    {
        string folder = args.Required("--model");
        if (!Directory.Exists(folder)) throw new UsageException($"{args.Command}: model folder not found: {folder}");
        foreach (string adapter in args.All("--adapter"))
        {
            if (!File.Exists(Path.Combine(adapter, "adapter_config.json")))
                throw new UsageException($"{args.Command}: --adapter {adapter}: no adapter_config.json there.");
            throw new UsageException($"{args.Command}: --adapter {adapter}: PEFT adapters are not supported by this build yet (they arrive with Peft.Tuners); run without --adapter.");
        }
        var clock = Stopwatch.StartNew();
        var config = ModelConfig.Load(folder);
        return config.IsEncoderDecoder
            ? new LoadedModel(null, ModelLoader.LoadSeq2Seq(folder), clock.Elapsed)
            : new LoadedModel(ModelLoader.LoadCausal(folder), null, clock.Elapsed);
    }
}
