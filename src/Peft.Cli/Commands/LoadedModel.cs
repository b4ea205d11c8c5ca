using System.Diagnostics;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Cli.Commands;

/// <summary>
/// A model folder loaded as whichever kind its config.json names (a sequence classifier when an
/// adapter carries a label list), wrapped in a <see cref="PeftModel"/> with its <c>--adapter</c>
/// folders loaded and active together, stacked in the order given.
/// </summary>
internal sealed class LoadedModel
{
    private LoadedModel(PeftModel model, TimeSpan loadTime, string folder, IReadOnlyList<string>? labels)
    {
        Model = model;
        LoadTime = loadTime;
        Folder = folder;
        Labels = labels;
    }

    public PeftModel Model { get; }

    public TimeSpan LoadTime { get; }

    public string Folder { get; }

    /// <summary>The class names when an adapter is a sequence classifier's, else null.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Loads <paramref name="folder"/> with <paramref name="adapters"/>; a problem with either is a usage error naming it.</summary>
    public static LoadedModel Load(string command, string folder, IReadOnlyList<string> adapters, LoadOptions? options, TextWriter warnings)
    {
        if (!Directory.Exists(folder)) throw new UsageException($"{command}: model folder not found: {folder}");
        if (!File.Exists(Path.Combine(folder, "config.json"))) throw new UsageException($"{command}: --model {folder}: no config.json there.");
        foreach (string adapter in adapters)
            if (!File.Exists(Path.Combine(adapter, AdapterFiles.ConfigFileName)))
                throw new UsageException($"{command}: --adapter {adapter}: no {AdapterFiles.ConfigFileName} there.");
        var labels = adapters.Select(LabelList.TryRead).LastOrDefault(l => l is not null);
        var clock = Stopwatch.StartNew();
        var config = ModelConfig.Load(folder);
        // The kernels compile on the other core while this one reads the weights (a fresh process's first prompt
        // otherwise waits for the JIT); a warm-up that fails only leaves that to the first prompt.
        var warmup = GenerationWarmup.StartAsync(config, options);
        var model = labels is not null ? new PeftModel(ModelLoader.LoadSequenceClassifier(folder, labels.Count, options))
            : config.IsEncoderDecoder ? new PeftModel(ModelLoader.LoadSeq2Seq(folder, options))
            : new PeftModel(ModelLoader.LoadCausal(folder, options));
        var names = new List<string>();
        foreach (string adapter in adapters)
        {
            string name = $"adapter{names.Count}";
            try
            {
                model.LoadAdapter(adapter, name, warn: message => warnings.WriteLine($"peft: warning: {message}"));
            }
            catch (Exception ex) when (ex is AdapterConfigException or InvalidDataException or ArgumentException or KeyNotFoundException
                or InvalidOperationException)
            {
                throw new UsageException($"{command}: --adapter {adapter} does not fit the model {folder}: {ex.Message}") { Detail = ex.Message };
            }
            names.Add(name);
        }
        if (names.Count > 0) model.SetActiveAdapters([.. names]);
        try
        {
            warmup.Wait();
        }
        catch (AggregateException ex)
        {
            warnings.WriteLine($"peft: warning: kernel warm-up failed ({ex.InnerException?.Message}); the first prompt compiles them instead.");
        }
        return new LoadedModel(model, clock.Elapsed, folder, labels);
    }
}
