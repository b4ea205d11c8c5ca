using System.Globalization;
using Peft.MLNet.Hosting;
using Peft.MLNet.Runtime;
using Peft.Tokenizers;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.MLNet.Training;

/// <summary>
/// The steps every Peft.MLNet trainer's Fit shares: the base and its tokenizer loaded with a fresh
/// (or resumed) adapter, the engine's Trainer run with progress in the context's log, and the
/// adapter frozen and read back as HF PEFT's bytes for the saved state.
/// </summary>
internal static class AdapterFit
{
    /// <summary>The adapter's name inside every model of ours.</summary>
    public const string AdapterName = "peft";

    /// <summary>
    /// Loads the base from <paramref name="options"/>' folder with <paramref name="load"/> and adds the adapter to train;
    /// the tokenizer is the options' one (registered for loading in this process, its fingerprint returned for the saved state)
    /// or the folder's tokenizer.json (fingerprint null).
    /// </summary>
    public static (PeftModel Model, Tokenizer Tokenizer, BaseModelReference Base, string? SuppliedTokenizer) Prepare(PeftTrainingOptions options,
        PipelineHost host, Func<string, LoadOptions, ILanguageModel> load)
    {
        var reference = BaseModelReference.Of(options.BaseModelFolder);
        string? fingerprint = options.Tokenizer is { } supplied ? PeftBaseModels.RegisterTokenizer(supplied, options.TokenizerSpecialTokens) : null;
        var tokenizer = PeftBaseModels.ResolveTokenizer(reference.Folder, fingerprint);
        var model = new PeftModel(load(reference.Folder, new LoadOptions { Quantization = options.Quantization }));
        if (options.InitialAdapterFolder is { } start) model.LoadAdapter(start, AdapterName, trainable: true);
        else model.AddAdapter(AdapterName,
            options.Method ?? new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = LoraTargetDefaults.For(model.BaseModel.Config.Family) },
            (ulong)options.Seed);
        var (trainable, total) = model.CountParameters();
        host.Info($"Base model {reference.Folder} (SHA-256 {reference.Sha256[..12]}…), {model.TaskType}; {model[AdapterName].Config.PeftType}: " +
            $"{trainable.ToString("N0", CultureInfo.InvariantCulture)} trainable of {total.ToString("N0", CultureInfo.InvariantCulture)} parameters.");
        return (model, tokenizer, reference, fingerprint);
    }

    /// <summary>Trains the adapter on <paramref name="rows"/> (validation loss on <paramref name="evaluation"/>), progress in the log.</summary>
    /// <exception cref="OperationCanceledException">The context was cancelled.</exception>
    public static void Train(PeftModel model, Tokenizer tokenizer, TrainingData rows, TrainingData? evaluation,
        PeftTrainingOptions options, PipelineHost host)
    {
        var trainer = new Trainer(model, options.ToTrainerOptions(tokenizer.PadTokenId ?? tokenizer.EosTokenId));
        var progress = new SynchronousProgress<TrainingProgress>(p => host.Info(
            $"epoch {p.Epoch.ToString("F2", CultureInfo.InvariantCulture)} step {p.Step}/{p.TotalSteps} " +
            $"loss {p.Loss.ToString("F4", CultureInfo.InvariantCulture)}" +
            (p.EvaluationLoss is float e ? $" validation loss {e.ToString("F4", CultureInfo.InvariantCulture)}" : "") +
            $" lr {p.LearningRate.ToString("E2", CultureInfo.InvariantCulture)} {p.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture)} tok/s"));
        if (evaluation is { Count: 0 }) host.Warning("The validation set has no rows to score; training without validation.");
        var result = trainer.Train(rows, evaluation is { Count: > 0 } ? evaluation : null, progress, host.Token);
        host.Info($"Trained {result.Steps} steps; final loss {result.FinalLoss.ToString("F4", CultureInfo.InvariantCulture)}.");
    }

    /// <summary>
    /// Freezes the adapter (from here on the same numeric path as a model loaded from the saved
    /// state) and returns its HF PEFT files' contents.
    /// </summary>
    public static (string ConfigJson, byte[] Weights) Freeze(PeftModel model)
    {
        model.SetTrainable(AdapterName, false);
        model.Training = false;
        return AdapterBytes.Read(model, AdapterName);
    }

    /// <summary>Reports on the training thread, in order.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
