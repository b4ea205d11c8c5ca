using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.PeftModels;

namespace Peft.MLNet.Generation;

/// <summary>
/// A fitted generator ready to answer prompts: the base (decoder-only or encoder-decoder) with its
/// frozen adapter, the tokenizer and the settings. One prompt runs at a time (ML.NET may call from
/// several cursors); the model generates with its key/value cache.
/// </summary>
internal sealed class GenerationRuntime
{
    private readonly object _gate;
    private readonly GenerationOptions _options;

    public GenerationRuntime(PeftModel model, Tokenizer tokenizer, TextGenerationSettings settings)
        : this(model, tokenizer, settings, new object())
    {
    }

    private GenerationRuntime(PeftModel model, Tokenizer tokenizer, TextGenerationSettings settings, object gate)
    {
        Model = model;
        Tokenizer = tokenizer;
        Settings = settings;
        _gate = gate;
        var options = settings.Generation;
        if (options.EosTokenIds is null && tokenizer.EosTokenId is int eos && model.BaseModel.Config.EosTokenIds.Count == 0) options = options with { EosTokenIds = [eos] };
        _options = options with { TextDecoder = ids => tokenizer.Decode(ids, skipSpecialTokens: true) };
    }

    public PeftModel Model { get; }

    public Tokenizer Tokenizer { get; }

    public TextGenerationSettings Settings { get; }

    /// <summary>The same model under other settings (it shares the model and its lock).</summary>
    public GenerationRuntime With(TextGenerationSettings settings) => new(Model, Tokenizer, settings, _gate);

    /// <summary>Rebuilds a runtime from a saved state: the base from its (verified) folder, the adapter from the state's bytes.</summary>
    public static GenerationRuntime FromState(ModelState state)
    {
        string folder = PeftBaseModels.Resolve(state.BaseModel);
        var options = new LoadOptions { Quantization = state.Quantization };
        var config = Peft.Transformers.Configuration.ModelConfig.Load(folder);
        ILanguageModel baseModel = config.IsEncoderDecoder ? ModelLoader.LoadSeq2Seq(folder, options) : ModelLoader.LoadCausal(folder, options);
        var model = new PeftModel(baseModel);
        AdapterBytes.Load(model, Training.AdapterFit.AdapterName, state.AdapterConfigJson, state.AdapterWeights);
        return new GenerationRuntime(model, Tokenizer.Load(folder), TextGenerationSettings.FromJson(state.Settings));
    }

    /// <summary>A prompt's token ids (special tokens as the tokenizer adds them), cut to the settings' limit.</summary>
    /// <exception cref="ArgumentException">The prompt encodes to no tokens.</exception>
    public IReadOnlyList<int> EncodePrompt(ReadOnlySpan<char> prompt)
    {
        var ids = Tokenizer.Encode(prompt.ToString(), addSpecialTokens: true).Ids;
        if (ids.Count == 0) throw new ArgumentException("A prompt encodes to no tokens; give each row some text.");
        return Settings.MaxLength is int max && ids.Count > max ? ids.Take(max).ToArray() : ids;
    }

    /// <summary>
    /// A training row: a decoder-only model learns the completion after the prompt (prompt
    /// positions labelled -100, the completion followed by the eos token); an encoder-decoder
    /// model reads the prompt and learns the completion (ending with eos) as its target.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt or the completion encodes to no tokens.</exception>
    public Tuners.Training.TrainingExample TrainingExample(ReadOnlySpan<char> prompt, ReadOnlySpan<char> completion)
    {
        var promptIds = EncodePrompt(prompt);
        bool encoderDecoder = Model.TaskType == ModelTask.Seq2SeqLM;
        var target = Tokenizer.Encode(completion.ToString(), addSpecialTokens: encoderDecoder).Ids.ToList();
        if (Tokenizer.EosTokenId is int eos && (target.Count == 0 || target[^1] != eos)) target.Add(eos);
        if (target.Count == 0) throw new ArgumentException("A completion encodes to no tokens and the tokenizer has no eos token to learn; give each row a completion.");
        if (encoderDecoder) return new Tuners.Training.TrainingExample(promptIds, target);
        return new Tuners.Training.TrainingExample([.. promptIds, .. target], [.. Enumerable.Repeat(-100, promptIds.Count), .. target]);
    }

    /// <summary>The text generated after <paramref name="prompt"/> (special tokens dropped).</summary>
    public string Generate(ReadOnlySpan<char> prompt)
    {
        var ids = EncodePrompt(prompt);
        IntTensor sequences;
        lock (_gate) sequences = Model.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null, _options);
        // Causal rows repeat the prompt; seq2seq rows start with the decoder start id.
        int skip = Model.TaskType == ModelTask.Seq2SeqLM ? 1 : ids.Count;
        return Tokenizer.Decode(sequences.Span[skip..].ToArray(), skipSpecialTokens: true);
    }
}
