using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;
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
    private int _passes;

    public GenerationRuntime(PeftModel model, Tokenizer tokenizer, TextGenerationSettings settings)
        : this(model, tokenizer, settings, new object())
    {
    }

    private GenerationRuntime(PeftModel model, Tokenizer tokenizer, TextGenerationSettings settings, object gate)
    {
        Model = model;
        // Virtual tokens next to each row's first real token: a left-padded batch row then generates what it does alone.
        model.Placement = VirtualTokenPlacement.NextToInput;
        Tokenizer = tokenizer;
        Settings = settings;
        _gate = gate;
        var options = settings.Generation;
        if (options.EosTokenIds is null && tokenizer.EosTokenId is int eos
            && model.BaseModel.Config.EosTokenIds.Count == 0) options = options with { EosTokenIds = [eos] };
        _options = options with { TextDecoder = ids => tokenizer.Decode(ids, skipSpecialTokens: true) };
    }

    public PeftModel Model { get; }

    /// <summary>Generation passes run so far (one per prompt alone, one per batch): how batching shows.</summary>
    public int Passes => Volatile.Read(ref _passes);

    public Tokenizer Tokenizer { get; }

    public TextGenerationSettings Settings { get; }

    /// <summary>The same model under other settings (it shares the model and its lock).</summary>
    public GenerationRuntime With(TextGenerationSettings settings) => new(Model, Tokenizer, settings, _gate);

    /// <summary>Rebuilds a runtime from a saved state: the base from its (verified) folder, the adapter from the state's bytes.</summary>
    public static GenerationRuntime FromState(ModelState state)
    {
        var settings = SettingsOf(state);
        string folder = PeftBaseModels.Resolve(state.BaseModel);
        var options = new LoadOptions { Quantization = state.Quantization };
        var config = Peft.Transformers.Configuration.ModelConfig.Load(folder);
        ILanguageModel baseModel = config.IsEncoderDecoder ? ModelLoader.LoadSeq2Seq(folder, options) : ModelLoader.LoadCausal(folder, options);
        var model = new PeftModel(baseModel);
        AdapterBytes.Load(model, Training.AdapterFit.AdapterName, state.AdapterConfigJson, state.AdapterWeights);
        return new GenerationRuntime(model, PeftBaseModels.ResolveTokenizer(folder, state.SuppliedTokenizer), settings);
    }

    /// <summary>A saved state's generation settings, checked as the trainer checks them.</summary>
    /// <exception cref="InvalidDataException">The settings are damaged or out of range.</exception>
    public static TextGenerationSettings SettingsOf(ModelState state) => state.ReadPart("settings", () =>
    {
        var settings = TextGenerationSettings.FromJson(state.Settings);
        settings.Generation.Validate();
        if (settings.MaxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(state), $"max_length must be positive; got {settings.MaxLength}.");
        return settings;
    });

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
        if (target.Count == 0)
            throw new ArgumentException("A completion encodes to no tokens and the tokenizer has no eos token to learn; " +
            "give each row a completion.");
        if (encoderDecoder) return new Tuners.Training.TrainingExample(promptIds, target);
        return new Tuners.Training.TrainingExample([.. promptIds, .. target], [.. Enumerable.Repeat(-100, promptIds.Count), .. target]);
    }

    /// <summary>The text generated after <paramref name="prompt"/> (special tokens dropped).</summary>
    /// <param name="prompt">The prompt text.</param>
    /// <param name="taskId">The row's task (multitask prompt tuning; ignored by other methods).</param>
    public string Generate(ReadOnlySpan<char> prompt, int taskId = 0) => Generate(EncodePrompt(prompt), taskId);

    /// <summary>The text generated after the prompt ids <paramref name="ids"/> of task <paramref name="taskId"/> (special tokens dropped).</summary>
    public string Generate(IReadOnlyList<int> ids, int taskId)
    {
        IntTensor sequences;
        var taskIds = Model.NeedsTaskIds ? IntTensor.FromArray([taskId], 1) : null;
        lock (_gate) sequences = Model.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null, _options, taskIds);
        Interlocked.Increment(ref _passes);
        // Causal rows repeat the prompt; seq2seq rows start with the decoder start id.
        int skip = Model.TaskType == ModelTask.Seq2SeqLM ? 1 : ids.Count;
        return Tokenizer.Decode(sequences.Span[skip..].ToArray(), skipSpecialTokens: true);
    }

    /// <summary>
    /// Whether several prompts can share one generation pass and each still get exactly what it
    /// gets alone: greedy decoding (a sampled row's draws would depend on its batch-mates) and an
    /// eos id to pad finished rows with, so a row's end is where its first eos is.
    /// </summary>
    public bool CanBatch => !_options.DoSample && EosIds.Count > 0;

    private IReadOnlyList<int> EosIds => _options.EosTokenIds ?? Model.BaseModel.Config.EosTokenIds;

    /// <summary>
    /// Generates for several prompts in one pass with one key/value cache (causal prompts padded
    /// on the left, seq2seq sources on the right, masked); each row's text is the one
    /// <see cref="Generate(IReadOnlyList{int}, int)"/> gives it alone. Without <see cref="CanBatch"/> the
    /// prompts run one at a time.
    /// </summary>
    /// <param name="prompts">Each row's prompt ids.</param>
    /// <param name="taskIds">Each row's task (multitask prompt tuning; ignored by other methods).</param>
    public string[] Generate(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<int> taskIds)
    {
        if (prompts.Count == 1 || !CanBatch) return prompts.Select((p, i) => Generate(p, taskIds[i])).ToArray();
        bool encoderDecoder = Model.TaskType == ModelTask.Seq2SeqLM;
        int batch = prompts.Count, length = prompts.Max(p => p.Count);
        var eos = EosIds;
        var ids = IntTensor.Zeros(new Shape(batch, length));
        var mask = IntTensor.Zeros(new Shape(batch, length));
        ids.Span.Fill(eos[0]);
        for (int b = 0; b < batch; b++)
        {
            int offset = encoderDecoder ? 0 : length - prompts[b].Count;
            for (int t = 0; t < prompts[b].Count; t++)
            {
                ids.Span[b * length + offset + t] = prompts[b][t];
                mask.Span[b * length + offset + t] = 1;
            }
        }
        IntTensor sequences;
        // Finished rows are padded with an eos id: cutting each row at its first eos gives its own end back.
        var tasks = Model.NeedsTaskIds ? IntTensor.FromArray([.. taskIds], batch) : null;
        lock (_gate) sequences = Model.Generate(ids, mask, _options with { PadTokenId = eos[0] }, tasks);
        Interlocked.Increment(ref _passes);
        int total = sequences.Shape[1], skip = encoderDecoder ? 1 : length;
        var texts = new string[batch];
        for (int b = 0; b < batch; b++)
        {
            var generated = sequences.Span.Slice(b * total + skip, total - skip);
            int end = 0;
            while (end < generated.Length && !eos.Contains(generated[end])) end++;
            texts[b] = Tokenizer.Decode(generated[..Math.Min(end + 1, generated.Length)].ToArray(), skipSpecialTokens: true);
        }
        return texts;
    }
}
