using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Tokenizers.ChatTemplates;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.PeftModels;

namespace Peft.Extensions.AI;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over a decoder-only model with its active PEFT
/// adapters: the conversation is rendered with the model's chat template, generated with a key/value
/// cache of its own per call (so concurrent calls do not share state) and streamed as text as it
/// decodes. <see cref="ChatOptions"/>' Temperature, TopP, TopK, MaxOutputTokens, StopSequences and Seed
/// are honoured (greedy unless a temperature above 0, a TopP or a TopK asks for sampling); stop
/// sequences end the answer and are not part of it; responses carry token counts and a finish reason.
/// </summary>
public sealed class PeftChatClient : IChatClient
{
    private readonly PeftModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly IChatPrompt _prompt;
    private readonly PeftChatClientOptions _options;
    private readonly int[] _eos;

    /// <summary>A client over a model already loaded, with its active adapters.</summary>
    /// <param name="model">A decoder-only model (gpt2, llama, qwen2, mistral) and the adapters to chat with, active.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="templates">
    /// The model's chat templates and special tokens (<see cref="TokenizerChatTemplates.Load"/>); null for a model without one,
    /// whose conversations are written as <see cref="ChatTemplate.Fallback"/> lays them out ("role: content" lines).
    /// </param>
    /// <param name="options">Defaults and the clock; null for the defaults.</param>
    /// <exception cref="ArgumentException">The model is not a decoder-only language model.</exception>
    public PeftChatClient(PeftModel model, Tokenizer tokenizer, TokenizerChatTemplates? templates, PeftChatClientOptions? options = null)
        : this(model, tokenizer, new TemplatePrompt(templates, options ?? new PeftChatClientOptions()), options)
    {
    }

    /// <summary>
    /// Loads a Hugging Face model folder (config.json, safetensors, tokenizer.json, its chat template from
    /// tokenizer_config.json or chat_template.jinja) and the PEFT adapter folders given, all active (stacked in order).
    /// </summary>
    /// <param name="modelFolder">The base model's folder.</param>
    /// <param name="adapterFolders">Hugging Face PEFT adapter folders (adapter_config.json + adapter_model.safetensors); none for the base alone.</param>
    /// <param name="options">Defaults; the model id defaults to the folder's name.</param>
    /// <param name="load">How to load the base (e.g. quantized to int8 or NF4); null for as stored.</param>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    public static PeftChatClient Load(string modelFolder, IEnumerable<string>? adapterFolders = null, PeftChatClientOptions? options = null,
        LoadOptions? load = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelFolder);
        if (!Directory.Exists(modelFolder)) throw new DirectoryNotFoundException($"The model folder '{modelFolder}' does not exist.");
        var model = new PeftModel(ModelLoader.LoadCausal(modelFolder, load ?? new LoadOptions()));
        var names = new List<string>();
        foreach (string adapter in adapterFolders ?? [])
        {
            if (!Directory.Exists(adapter)) throw new DirectoryNotFoundException($"The adapter folder '{adapter}' does not exist.");
            string name = $"adapter{names.Count}";
            model.LoadAdapter(adapter, name);
            names.Add(name);
        }
        if (names.Count > 0) model.SetActiveAdapters([.. names]);
        options ??= new PeftChatClientOptions();
        options = options.ModelId is null
            ? options with { ModelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelFolder))) }
            : options;
        return new PeftChatClient(model, Tokenizer.Load(modelFolder), TokenizerChatTemplates.Load(modelFolder), options);
    }

    internal PeftChatClient(PeftModel model, Tokenizer tokenizer, IChatPrompt prompt, PeftChatClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (model.TaskType != ModelTask.CausalLM)
            throw new ArgumentException($"A chat client needs a decoder-only language model; this one is {model.TaskType}.", nameof(model));
        _model = model;
        _tokenizer = tokenizer;
        _prompt = prompt;
        _options = options ?? new PeftChatClientOptions();
        if (_options.MaxOutputTokens <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxOutputTokens must be positive; got {_options.MaxOutputTokens}.");
        _eos = [.. model.BaseModel.Config.EosTokenIds.Concat(tokenizer.EosTokenId is int id ? [id] : []).Distinct()];
        Metadata = new ChatClientMetadata("Peft.MLNet", null, _options.ModelId ?? "peft");
    }

    /// <summary>The provider name ("Peft.MLNet") and the model id.</summary>
    public ChatClientMetadata Metadata { get; }

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)) updates.Add(update);
        return updates.ToChatResponse();
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var conversation = TemplateMessages.From(messages, options?.Instructions);
        if (conversation.Count == 0) throw new ArgumentException("The conversation has no messages.", nameof(messages));
        string prompt = _prompt.Render(conversation, TemplateMessages.Tools(options?.Tools));
        var ids = _tokenizer.Encode(prompt, addSpecialTokens: _prompt.AddSpecialTokens).Ids;
        if (ids.Count == 0) throw new ArgumentException("The conversation renders to no tokens.", nameof(messages));
        var generation = Generation(options);
        // With learned positions (GPT-2) the answer stops at the last one, as a length finish, rather than failing past it.
        generation = generation with { MaxNewTokens = _model.NewTokensThatFit(ids.Count, generation.MaxNewTokens) };
        string responseId = Guid.NewGuid().ToString("N");
        var created = _options.Clock.GetUtcNow();
        string modelId = Metadata.DefaultModelId!;

        var decoder = _tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        var stops = new StopTextFilter(options?.StopSequences ?? []);
        int generated = 0;
        bool endOfText = false;
        await foreach (int id in _model.StreamAsync(IntTensor.FromArray([.. ids], 1, ids.Count), null, generation, null, cancellationToken)
            .ConfigureAwait(false))
        {
            generated++;
            if (Array.IndexOf(_eos, id) >= 0)
            {
                endOfText = true;
                break;
            }
            string text = stops.Add(decoder.Add(id));
            if (text.Length > 0) yield return Text(text);
            if (stops.Stopped) break;
        }
        string tail = stops.Add(decoder.Flush());
        if (!stops.Stopped) tail += stops.Flush();
        if (tail.Length > 0) yield return Text(tail);

        var finish = endOfText || stops.Stopped || generated < generation.MaxNewTokens ? ChatFinishReason.Stop : ChatFinishReason.Length;
        var usage = new UsageDetails { InputTokenCount = ids.Count, OutputTokenCount = generated, TotalTokenCount = ids.Count + generated };
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
        {
            FinishReason = finish,
            ResponseId = responseId,
            MessageId = responseId,
            CreatedAt = created,
            ModelId = modelId,
        };

        ChatResponseUpdate Text(string text) => new(ChatRole.Assistant, text)
        {
            ResponseId = responseId,
            MessageId = responseId,
            CreatedAt = created,
            ModelId = modelId,
        };
    }

    /// <summary>The request's generation settings; greedy unless sampling is asked for.</summary>
    private GenerationOptions Generation(ChatOptions? options)
    {
        int maxNewTokens = options?.MaxOutputTokens ?? _options.MaxOutputTokens;
        if (maxNewTokens <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"ChatOptions.MaxOutputTokens must be positive; got {maxNewTokens}.");
        float? temperature = options?.Temperature;
        bool sample = temperature > 0 || (temperature is null && (options?.TopP is not null || options?.TopK is not null));
        var generation = new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            EosTokenIds = _eos,
            DoSample = sample,
            Temperature = sample ? temperature ?? 1f : 1f,
            TopP = options?.TopP ?? 1f,
            TopK = options?.TopK ?? 0,
            Seed = unchecked((ulong)(options?.Seed ?? 0)),
        };
        generation.Validate();
        return generation;
    }

    /// <summary>
    /// The client itself, its <see cref="ChatClientMetadata"/>, the <see cref="PeftModel"/> it runs or
    /// its <see cref="Tokenizer"/>; null for anything else or with a service key.
    /// </summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_model)) return _model;
        if (serviceType.IsInstanceOfType(_tokenizer)) return _tokenizer;
        return null;
    }

    /// <summary>Nothing to release: the model is managed memory, shared with whoever gave it.</summary>
    public void Dispose()
    {
    }
}
