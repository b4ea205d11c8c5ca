using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PTuning;

/// <summary>
/// P-tuning's prompt encoder. Trainable: the embedding [virtual, token_dim] and the MLP (or LSTM +
/// MLP) weights, named as PEFT's <c>prompt_encoder.*</c> parameters. HF PEFT saves only the
/// encoder's output (<c>prompt_embeddings</c>), so an adapter loaded from PEFT's files is fixed
/// virtual tokens (inference).
/// </summary>
public sealed class PTuningAdapter : IVirtualTokenAdapter
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<PTuningConfig>("P_TUNING",
        (config, model, seed, _) => Create(config, model.Config, seed),
        (folder, model, warn) => Load(folder, model.Config, warn));

    private readonly Tensor? _fixedOutput;

    private PTuningAdapter(PTuningConfig config, ModelConfig model, Tensor? embedding, Tensor[] mlp, LstmWeights[] lstm, Tensor? fixedOutput)
    {
        Config = config;
        Model = model;
        Embedding = embedding;
        Mlp = mlp;
        Lstm = lstm;
        _fixedOutput = fixedOutput;
    }

    /// <summary>The settings.</summary>
    public PTuningConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <summary>The base model's config.</summary>
    public ModelConfig Model { get; }

    /// <inheritdoc/>
    public int NumVirtualTokens => Config.NumVirtualTokens;

    /// <inheritdoc/>
    public bool NeedsTaskIds => false;

    /// <summary>The encoder's input embedding, or null for a loaded (inference-only) adapter.</summary>
    public Tensor? Embedding { get; }

    /// <summary>The MLP head: weight, bias pairs of Linear 0, 2 and 4 (MLP) or 0 and 2 (after the LSTM).</summary>
    public IReadOnlyList<Tensor> Mlp { get; }

    /// <summary>The LSTM layers (forward, reverse per layer), empty for MLP.</summary>
    public IReadOnlyList<LstmWeights> Lstm { get; }

    /// <summary>The trainable tensors (none for a loaded adapter).</summary>
    public IEnumerable<Tensor> Parameters =>
        Embedding is null
            ? []
            : [Embedding, .. Lstm.SelectMany(l => new[] { l.WeightInputHidden, l.WeightHiddenHidden, l.BiasInputHidden!, l.BiasHiddenHidden! }), .. Mlp];

    /// <summary>Creates a fresh trainable encoder (PyTorch's default inits, seeded).</summary>
    public static PTuningAdapter Create(PTuningConfig config, ModelConfig model, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (dim, hidden) = config.Resolve(model);
        var random = new SeededRandom(seed);
        var embedding = TensorInit.Normal(new Shape(config.NumVirtualTokens, dim), 0, 1, random, "prompt_encoder.embedding.weight");
        Tensor Weight(string name, int outF, int inF) => TensorInit.KaimingUniform(new Shape(outF, inF), random, name: name);
        Tensor Bias(string name, int outF, int inF) => TensorInit.Uniform(new Shape(outF), -1f / MathF.Sqrt(inF), 1f / MathF.Sqrt(inF), random, name);
        if (config.EncoderReparameterizationType == PromptEncoderReparameterizationType.Mlp)
        {
            Tensor[] mlp =
            [
                Weight("prompt_encoder.mlp_head.0.weight", hidden, dim), Bias("prompt_encoder.mlp_head.0.bias", hidden, dim),
                Weight("prompt_encoder.mlp_head.2.weight", hidden, hidden), Bias("prompt_encoder.mlp_head.2.bias", hidden, hidden),
                Weight("prompt_encoder.mlp_head.4.weight", dim, hidden), Bias("prompt_encoder.mlp_head.4.bias", dim, hidden),
            ];
            return new PTuningAdapter(config, model, embedding, mlp, [], null);
        }
        var lstm = new List<LstmWeights>();
        float bound = 1f / MathF.Sqrt(hidden);
        for (int layer = 0; layer < config.EncoderNumLayers; layer++)
        {
            int input = layer == 0 ? dim : 2 * hidden;
            foreach (string suffix in new[] { "", "_reverse" })
            {
                string p = $"prompt_encoder.lstm_head.";
                lstm.Add(new LstmWeights(
                    TensorInit.Uniform(new Shape(4 * hidden, input), -bound, bound, random, $"{p}weight_ih_l{layer}{suffix}"),
                    TensorInit.Uniform(new Shape(4 * hidden, hidden), -bound, bound, random, $"{p}weight_hh_l{layer}{suffix}"),
                    TensorInit.Uniform(new Shape(4 * hidden), -bound, bound, random, $"{p}bias_ih_l{layer}{suffix}"),
                    TensorInit.Uniform(new Shape(4 * hidden), -bound, bound, random, $"{p}bias_hh_l{layer}{suffix}")));
            }
        }
        Tensor[] head =
        [
            Weight("prompt_encoder.mlp_head.0.weight", 2 * hidden, 2 * hidden), Bias("prompt_encoder.mlp_head.0.bias", 2 * hidden, 2 * hidden),
            Weight("prompt_encoder.mlp_head.2.weight", dim, 2 * hidden), Bias("prompt_encoder.mlp_head.2.bias", dim, 2 * hidden),
        ];
        return new PTuningAdapter(config, model, embedding, head, [.. lstm], null);
    }

    /// <summary>Wraps existing encoder tensors (a training checkpoint): MLP head pairs and, for LSTM, its layers.</summary>
    public static PTuningAdapter FromTensors(PTuningConfig config, ModelConfig model, Tensor embedding, IReadOnlyList<Tensor> mlp,
        IReadOnlyList<LstmWeights>? lstm = null)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(mlp);
        return new PTuningAdapter(config, model, embedding, [.. mlp], lstm is null ? [] : [.. lstm], null);
    }

    /// <summary>Loads PEFT's files: the saved encoder output becomes fixed virtual tokens.</summary>
    public static PTuningAdapter Load(string folder, ModelConfig model, Action<string>? warn = null)
    {
        PTuningConfig config;
        using (var doc = AdapterFiles.ReadConfig(folder, "P_TUNING"))
            config = PTuningConfig.FromJson(doc.RootElement, warn);
        var (dim, _) = config.Resolve(model);
        var table = Tensor.Wrap(new float[config.NumVirtualTokens * dim], new Shape(config.NumVirtualTokens, dim));
        table.Name = "prompt_embeddings";
        AdapterFiles.ReadWeights(folder, [table]);
        return new PTuningAdapter(config, model, null, [], [], table);
    }

    /// <summary>
    /// PEFT's adapter folder: like PEFT, only the encoder's output (<c>prompt_embeddings</c>),
    /// so the saved adapter serves inference; training checkpoints keep the encoder weights.
    /// </summary>
    public AdapterFileContents FileContents()
    {
        Tensor table;
        using (Autograd.NoGrad()) table = TensorScope.Keep(VirtualTokens());
        if (ReferenceEquals(table, _fixedOutput)) table = table.Detach();
        table.Name = "prompt_embeddings";
        return new(Config.ToJson(Model), [table]);
    }

    /// <inheritdoc/>
    public Tensor VirtualTokens(int batch, IntTensor? taskIds) => VirtualTokens();

    /// <summary>The virtual tokens [virtual, token_dim]: the encoder's output (differentiable when trainable).</summary>
    public Tensor VirtualTokens()
    {
        if (_fixedOutput is not null) return _fixedOutput;
        Tensor x = Embedding!;
        if (Lstm.Count > 0)
        {
            var sequence = Ops.Lstm(Ops.Reshape(x, 1, x.Shape[0], x.Shape[1]), Lstm, bidirectional: true);
            x = Ops.Reshape(sequence, sequence.Shape[1], sequence.Shape[2]);
        }
        for (int i = 0; i < Mlp.Count; i += 2)
        {
            x = Ops.Linear(x, Mlp[i], Mlp[i + 1]);
            if (i + 2 < Mlp.Count) x = Ops.Relu(x);
        }
        return x;
    }
}
