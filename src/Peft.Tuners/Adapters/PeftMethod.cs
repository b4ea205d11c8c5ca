using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>
/// One PEFT method as the library knows it: HF PEFT's <c>peft_type</c>, its config type, and how
/// to create a fresh adapter or load one from a folder. Each method's folder declares its own;
/// <see cref="PeftMethods"/> lists them.
/// </summary>
public sealed class PeftMethod
{
    private readonly Func<IPeftConfig, ILanguageModel, ulong, Func<string, IReadOnlyList<int>>?, IPeftAdapter> _create;
    private readonly Func<string, ILanguageModel, Action<string>?, IPeftAdapter> _load;

    private PeftMethod(string peftType, Type configType, Func<IPeftConfig, ILanguageModel, ulong, Func<string, IReadOnlyList<int>>?, IPeftAdapter> create,
        Func<string, ILanguageModel, Action<string>?, IPeftAdapter> load)
    {
        PeftType = peftType;
        ConfigType = configType;
        _create = create;
        _load = load;
    }

    /// <summary>HF PEFT's <c>peft_type</c> (e.g. LORA).</summary>
    public string PeftType { get; }

    /// <summary>The method's config class.</summary>
    public Type ConfigType { get; }

    /// <summary>Declares a method whose configs are <typeparamref name="TConfig"/>.</summary>
    /// <param name="peftType">HF PEFT's <c>peft_type</c>.</param>
    /// <param name="create">A fresh adapter from a config, the base model, a seed and (for TEXT initialization) the tokenizer.</param>
    /// <param name="load">An adapter from an HF PEFT folder for the base model, with a sink for warnings.</param>
    public static PeftMethod Of<TConfig>(string peftType, Func<TConfig, ILanguageModel, ulong, Func<string, IReadOnlyList<int>>?, IPeftAdapter> create,
        Func<string, ILanguageModel, Action<string>?, IPeftAdapter> load)
        where TConfig : IPeftConfig
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(peftType);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(load);
        return new PeftMethod(peftType, typeof(TConfig), (config, model, seed, tokenize) => create((TConfig)config, model, seed, tokenize), load);
    }

    /// <summary>A fresh adapter (weight adapters are attached to the model's layers).</summary>
    internal IPeftAdapter Create(IPeftConfig config, ILanguageModel model, ulong seed, Func<string, IReadOnlyList<int>>? tokenize) =>
        _create(config, model, seed, tokenize);

    /// <summary>An adapter read from an HF PEFT folder.</summary>
    internal IPeftAdapter Load(string folder, ILanguageModel model, Action<string>? warn) => _load(folder, model, warn);
}
