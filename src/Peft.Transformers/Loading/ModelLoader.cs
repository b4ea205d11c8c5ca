using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Classification;
using Peft.Transformers.Models.Gpt2;
using Peft.Transformers.Models.Llama;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Modules;
using Peft.Transformers.Quantization;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Loading;

/// <summary>Loads and saves models in Hugging Face's folder layout (config.json + safetensors).</summary>
public static class ModelLoader
{
    /// <summary>
    /// Reads config.json and the safetensors weights of <paramref name="folder"/> into a frozen
    /// model (no parameter requires gradients). A folder saved with quantized weights (config.json
    /// has a <c>quantization_config</c>) loads them quantized; <see cref="LoadOptions.Quantization"/>
    /// quantizes a float folder's linear layers on load.
    /// </summary>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing.</exception>
    /// <exception cref="ModelConfigException">The config is invalid or not a decoder-only family.</exception>
    /// <exception cref="InvalidDataException">A weight is missing, unexpected or wrongly shaped.</exception>
    public static CausalLanguageModel LoadCausal(string folder, LoadOptions? options = null) => LoadCausal(folder, options, CancellationToken.None);

    /// <summary>
    /// <see cref="LoadCausal(string, LoadOptions?)"/> off the calling thread: reading and converting
    /// the weights (seconds for a large checkpoint) does not block a UI or request thread, and
    /// cancellation stops between tensors (nothing half-loaded is returned).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<CausalLanguageModel> LoadCausalAsync(string folder, LoadOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => LoadCausal(folder, options, cancellationToken), cancellationToken);

    private static CausalLanguageModel LoadCausal(string folder, LoadOptions? options, CancellationToken cancellationToken)
    {
        var config = LoadConfig(folder);
        var model = CreateCausal(config);
        LoadWeights(folder, config, model.Parameters, model.LinearLayers, options, Aliases(model), cancellationToken: cancellationToken);
        // The blocks' format: asked for, or what a folder saved quantized holds. The head copy by default: with int8 asked
        // for, with a 16-bit format asked for when the head's values are that format's (exact), or as the saved model had it
        // (save -> load keeps the logits).
        var saved = SavedQuantization(config);
        bool asked = options is { Quantization: not QuantizationFormat.None };
        var format = asked ? options!.Quantization
            : model.Parameters.Quantized.Count > 0 ? model.Parameters.Quantized[0].Matrix.Format : QuantizationFormat.None;
        if (options?.QuantizeLmHead is null && asked && format is QuantizationFormat.BFloat16 or QuantizationFormat.Float16)
            model.TryQuantizeHeadExactly(format);
        else if (options?.QuantizeLmHead ?? (asked ? format == QuantizationFormat.Int8 : saved?.QuantizedLmHead ?? false))
        {
            if (format == QuantizationFormat.None)
                throw new ArgumentException(
                    "LoadOptions.QuantizeLmHead needs LoadOptions.Quantization (Int8, Nf4, BFloat16 or Float16) or a folder saved quantized to say the format.",
                    nameof(options));
            model.QuantizeHead(format, options?.DoubleQuantization ?? false);
        }
        return model;
    }

    /// <summary>Reads an encoder-decoder (T5) model folder into a frozen model.</summary>
    /// <exception cref="ModelConfigException">The config is invalid or not an encoder-decoder family.</exception>
    public static T5Model LoadSeq2Seq(string folder, LoadOptions? options = null) => LoadSeq2Seq(folder, options, CancellationToken.None);

    /// <summary><see cref="LoadSeq2Seq(string, LoadOptions?)"/> off the calling thread, cancellable between tensors.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<T5Model> LoadSeq2SeqAsync(string folder, LoadOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => LoadSeq2Seq(folder, options, cancellationToken), cancellationToken);

    private static T5Model LoadSeq2Seq(string folder, LoadOptions? options, CancellationToken cancellationToken)
    {
        var config = LoadConfig(folder);
        if (config.Family != ModelFamily.T5)
            throw new ModelConfigException(config.Source, "model_type", $"is '{config.ModelType}', which is not an encoder-decoder model; supported: t5.");
        var model = new T5Model(config);
        LoadWeights(folder, config, model.Parameters, model.LinearLayers, options, null, cancellationToken: cancellationToken);
        return model;
    }

    /// <summary>
    /// Reads a decoder-only model folder as a sequence classifier: Hugging Face's
    /// <c>*ForSequenceClassification</c> checkpoints (with <c>score.weight</c>, label count from
    /// <c>id2label</c>) or a plain causal LM checkpoint, whose new head is drawn N(0, 0.02²) from
    /// <paramref name="seed"/>. The LM head may be absent; it is not used.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="numLabels">Number of classes; null = from config.json's id2label (or num_labels).</param>
    /// <param name="options">Loading options.</param>
    /// <param name="seed">Seed of a new head.</param>
    /// <exception cref="ModelConfigException">No label count, or one that contradicts the checkpoint's head.</exception>
    public static SequenceClassificationModel LoadSequenceClassifier(string folder, int? numLabels = null, LoadOptions? options = null, ulong seed = 0)
    {
        var config = LoadConfig(folder);
        var backbone = CreateCausal(config);
        int? fromConfig = LabelCount(config.Source);
        const string score = SequenceClassificationModel.ScoreName;
        // Quantization applies as for LoadCausal; the head stays float.
        LoadWeights(folder, config, backbone.Parameters, backbone.LinearLayers, options, Aliases(backbone), name => name == score,
            name => name == "lm_head.weight");
        using var checkpoint = CheckpointReader.Open(folder);
        int labels = numLabels ?? fromConfig
            ?? throw new ModelConfigException(config.Source, "id2label", "is missing, so the number of classes is unknown; pass numLabels.");
        if (numLabels is int given && fromConfig is int configured && given != configured)
            throw new ModelConfigException(config.Source, "id2label", $"names {configured} classes but numLabels is {given}.");
        Tensors.Tensor? head = null;
        if (checkpoint.Contains(score))
        {
            var info = checkpoint.GetInfo(score);
            if (info.Shape.Length != 2 || info.Shape[0] != labels || info.Shape[1] != config.HiddenSize)
                throw new InvalidDataException($"{folder}: '{score}' has shape {info.ShapeText} but {labels} classes need [{labels}, {config.HiddenSize}].");
            head = Tensors.Tensor.Zeros(new Tensors.Shape(labels, config.HiddenSize));
            checkpoint.ReadFloat32(score, head.Span);
        }
        return new SequenceClassificationModel(backbone, labels, head, seed);
    }

    private static int? LabelCount(string configPath)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(configPath));
        var root = doc.RootElement;
        if (root.TryGetProperty("id2label", out var map) && map.ValueKind == System.Text.Json.JsonValueKind.Object) return map.EnumerateObject().Count();
        if (root.TryGetProperty("num_labels", out var n) && n.ValueKind == System.Text.Json.JsonValueKind.Number) return n.GetInt32();
        return null;
    }

    private static ModelConfig LoadConfig(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        return ModelConfig.Load(folder);
    }

    /// <summary>The quantization_config a folder saved quantized carries in its config.json, or null.</summary>
    private static QuantizationConfig? SavedQuantization(ModelConfig config) =>
        config.GetRawField("quantization_config") is { } node ? QuantizationConfig.Parse(node, config.Source) : null;

    private static void LoadWeights(string folder, ModelConfig config, ParameterSet parameters, IReadOnlyList<LinearLayer> layers, LoadOptions? options,
        IReadOnlyDictionary<string, string>? aliases, Func<string, bool>? alsoIgnorable = null, Func<string, bool>? mayBeMissing = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        using var checkpoint = CheckpointReader.Open(folder);
        var stored = SavedQuantization(config);
        if (stored is not null)
        {
            foreach (var layer in layers)
            {
                string name = layer.Weight.Name ?? layer.Name + ".weight";
                if (!QuantizedWeightFile.IsQuantized(checkpoint, name)) continue;
                var q = QuantizedWeightFile.Read(checkpoint, name, layer.OutFeatures, layer.InFeatures, stored);
                layer.UseQuantizedWeight(q);
                parameters.ReplaceWithQuantized(name, q);
            }
        }
        if (stored is null && options.Quantization is QuantizationFormat.BFloat16 or QuantizationFormat.Float16)
            LoadHalfLayers(checkpoint, parameters, layers, options, aliases, cancellationToken);
        parameters.Load(checkpoint, options, name => IsIgnorable(config, name) || alsoIgnorable?.Invoke(name) == true, aliases, mayBeMissing,
            cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        // A quantized folder keeps the layers it saved float (its excluded modules) as they are.
        if (stored is null && options.Quantization is QuantizationFormat.Int8 or QuantizationFormat.Nf4)
            ModelQuantization.Quantize(layers, parameters, options.Quantization, options.DoubleQuantization, options.QuantizationExcludedModules);
    }

    // 16-bit base: each linear layer's weight goes from the checkpoint's bytes to a HalfMatrix (F16/BF16 bits kept as they
    // are, F32 rounded to nearest even) without a float copy held in the model. Excluded modules stay float.
    private static void LoadHalfLayers(CheckpointReader checkpoint, ParameterSet parameters, IReadOnlyList<LinearLayer> layers, LoadOptions options,
        IReadOnlyDictionary<string, string>? aliases, CancellationToken cancellationToken)
    {
        var excluded = options.QuantizationExcludedModules.ToArray();
        foreach (var layer in layers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (layer.IsQuantized || ModelQuantization.IsExcluded(layer.Name, excluded)) continue;
            string name = layer.Weight.Name ?? layer.Name + ".weight";
            layer.UseQuantizedWeight(parameters.LoadHalf(checkpoint, name, options.Quantization, aliases));
        }
    }

    /// <summary>Builds a zero-weight model of the config's family.</summary>
    public static CausalLanguageModel CreateCausal(ModelConfig config) => config.Family switch
    {
        ModelFamily.Gpt2 => new Gpt2Model(config),
        ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Mistral => new LlamaModel(config),
        _ => throw new ModelConfigException(config.Source, "model_type",
            $"is '{config.ModelType}', which is not a decoder-only model supported here; use gpt2, llama, qwen2 or mistral."),
    };

    /// <summary>Writes config.json and model.safetensors (atomically each) to <paramref name="folder"/>.</summary>
    public static void Save(CausalLanguageModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        Save(model.Config, model.Parameters, folder, quantizedLmHead: model.QuantizedHead is not null);
    }

    /// <summary>Writes a T5 model's config.json and model.safetensors to <paramref name="folder"/>.</summary>
    public static void Save(T5Model model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        Save(model.Config, model.Parameters, folder);
    }

    private static void Save(ModelConfig config, ParameterSet parameters, string folder, bool quantizedLmHead = false)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        SafeTensorsWriter.Write(Path.Combine(folder, CheckpointReader.SingleFileName), parameters.ToEntries(),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson(config, parameters, quantizedLmHead));
    }

    // config.json with a quantization_config describing the quantized weights (none when all are float).
    private static string ConfigJson(ModelConfig config, ParameterSet parameters, bool quantizedLmHead)
    {
        var json = (JsonObject)JsonNode.Parse(config.ToJson())!;
        json.Remove("quantization_config");
        if (ModelQuantization.Describe(parameters, quantizedLmHead) is { } q) json["quantization_config"] = q.ToJson();
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    // Buffers some checkpoints carry that are not parameters.
    private static bool IsIgnorable(ModelConfig config, string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal) ||
        name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) ||
        (config.TieWordEmbeddings && (name == "lm_head.weight" || name is "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight"));

    // GPT2Model checkpoints (no LM head) name parameters without the "transformer." prefix.
    private static Dictionary<string, string>? Aliases(CausalLanguageModel model) =>
        model.Config.Family == ModelFamily.Gpt2
            ? model.Parameters.All.Where(p => p.Name.StartsWith("transformer.", StringComparison.Ordinal))
                .ToDictionary(p => p.Name, p => p.Name["transformer.".Length..])
            : null;
}
