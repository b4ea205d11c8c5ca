using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Loading;
using Peft.Tuners.PeftModels;

namespace Peft.MLNet.Classification;

/// <summary>
/// A fitted classifier ready to score rows: the base with its (frozen) adapter, the tokenizer and
/// the settings. One row runs at a time (ML.NET may call from several cursors).
/// </summary>
internal sealed class ClassifierRuntime
{
    private readonly object _gate = new();

    public ClassifierRuntime(PeftModel model, Tokenizer tokenizer, ClassificationSettings settings)
    {
        Model = model;
        Tokenizer = tokenizer;
        Settings = settings;
    }

    public PeftModel Model { get; }

    public Tokenizer Tokenizer { get; }

    public ClassificationSettings Settings { get; }

    /// <summary>Rebuilds a runtime from a saved state: the base from its (verified) folder, the adapter from the state's bytes.</summary>
    public static ClassifierRuntime FromState(ModelState state)
    {
        string folder = PeftBaseModels.Resolve(state.BaseModel);
        var settings = SettingsOf(state);
        var classifier = ModelLoader.LoadSequenceClassifier(folder, settings.ClassNames.Count, new LoadOptions { Quantization = state.Quantization });
        var model = new PeftModel(classifier);
        AdapterBytes.Load(model, Training.AdapterFit.AdapterName, state.AdapterConfigJson, state.AdapterWeights);
        return new ClassifierRuntime(model, PeftBaseModels.ResolveTokenizer(folder, state.SuppliedTokenizer), settings);
    }

    /// <summary>A saved state's classification settings, checked as the trainer checks them.</summary>
    /// <exception cref="InvalidDataException">The settings are damaged or out of range.</exception>
    public static ClassificationSettings SettingsOf(ModelState state) => state.ReadPart("settings", () =>
    {
        var settings = ClassificationSettings.FromJson(state.Settings);
        if (settings.ClassNames.Count == 0) throw new ArgumentOutOfRangeException(nameof(state), "class_names is empty.");
        if (settings.MaxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(state), $"max_length must be positive; got {settings.MaxLength}.");
        return settings;
    });

    /// <summary>Token ids of a row, cut to the settings' limit.</summary>
    /// <exception cref="ArgumentException">The row encodes to no tokens.</exception>
    public IReadOnlyList<int> Encode(ReadOnlySpan<char> sentence1, ReadOnlySpan<char> sentence2)
    {
        var ids = Tokenizer.Encode(Settings.Text(sentence1, sentence2), addSpecialTokens: true).Ids;
        if (ids.Count == 0) throw new ArgumentException("A row's text encodes to no tokens; give each row some text.");
        return Settings.MaxLength is int max && ids.Count > max ? ids.Take(max).ToArray() : ids;
    }

    /// <summary>Class probabilities (softmax of the logits) of one row of task <paramref name="taskId"/> into <paramref name="probabilities"/>.</summary>
    public void Score(ReadOnlySpan<char> sentence1, ReadOnlySpan<char> sentence2, int taskId, Span<float> probabilities)
    {
        var ids = Encode(sentence1, sentence2);
        var input = IntTensor.FromArray([.. ids], 1, ids.Count);
        lock (_gate)
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            var logits = Model.Forward(input, taskIds: Model.NeedsTaskIds ? IntTensor.FromArray([taskId], 1) : null).Logits.Span;
            float max = float.NegativeInfinity;
            for (int i = 0; i < logits.Length; i++) max = Math.Max(max, logits[i]);
            float sum = 0;
            for (int i = 0; i < logits.Length; i++) sum += probabilities[i] = MathF.Exp(logits[i] - max);
            for (int i = 0; i < logits.Length; i++) probabilities[i] /= sum;
        }
    }
}
