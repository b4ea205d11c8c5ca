using System.Diagnostics;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Cli.Commands;

/// <summary>
/// A model folder loaded as whichever kind its config.json names, wrapped in a <see cref="PeftModel"/>
/// with its <c>--adapter</c> folders loaded and active together, stacked in the order given.
/// </summary>
internal sealed class LoadedModel
{
    private LoadedModel(PeftModel model, TimeSpan loadTime)
    {
        Model = model;
        LoadTime = loadTime;
    }

    public PeftModel Model { get; }

    public TimeSpan LoadTime { get; }

    public static LoadedModel Load(CommandLine args)
    {
        string folder = args.Required("--model");
        if (!Directory.Exists(folder)) throw new UsageException($"{args.Command}: model folder not found: {folder}");
        var adapters = args.All("--adapter");
        foreach (string adapter in adapters)
            if (!File.Exists(Path.Combine(adapter, AdapterFiles.ConfigFileName)))
                throw new UsageException($"{args.Command}: --adapter {adapter}: no {AdapterFiles.ConfigFileName} there.");
        var clock = Stopwatch.StartNew();
        var config = ModelConfig.Load(folder);
        var model = config.IsEncoderDecoder ? new PeftModel(ModelLoader.LoadSeq2Seq(folder)) : new PeftModel(ModelLoader.LoadCausal(folder));
        var names = new List<string>();
        foreach (string adapter in adapters)
        {
            string name = $"adapter{names.Count}";
            model.LoadAdapter(adapter, name, warn: message => Console.Error.WriteLine($"peft: warning: {message}"));
            names.Add(name);
        }
        if (names.Count > 0) model.SetActiveAdapters([.. names]);
        return new LoadedModel(model, clock.Elapsed);
    }
}
