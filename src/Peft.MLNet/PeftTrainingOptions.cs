using Microsoft.ML;
using Peft.Tokenizers.Interop;
using Peft.Tensors.Quantization;
using Peft.Tuners.Adapters;
using Peft.Tuners.Training;

namespace Peft.MLNet;

/// <summary>
/// What every Peft.MLNet trainer needs: the base model folder, the PEFT method (HF PEFT's setting
/// names, on its config) and the training loop's settings. Each trainer's Options adds its columns.
/// </summary>
public abstract class PeftTrainingOptions
{
    /// <summary>A Hugging Face model folder: config.json, model.safetensors (or shards), tokenizer.json.</summary>
    public string BaseModelFolder { get; set; } = "";

    /// <summary>
    /// The tokenizer to use instead of the base folder's tokenizer.json: any Microsoft.ML.Tokenizers
    /// tokenizer (TiktokenTokenizer, LlamaTokenizer, BpeTokenizer, ours...). A saved model records its
    /// fingerprint, not the tokenizer: register the same one with <see cref="Runtime.PeftBaseModels.RegisterTokenizer"/>
    /// in a process that loads the model. Null: the folder's tokenizer.json.
    /// </summary>
    public Microsoft.ML.Tokenizers.Tokenizer? Tokenizer { get; set; }

    /// <summary>
    /// The model's special ids (bos, eos, pad) where <see cref="Tokenizer"/> does not know them (e.g. a
    /// TiktokenTokenizer has no pad); ignored without <see cref="Tokenizer"/>.
    /// </summary>
    public MLTokenizerOptions? TokenizerSpecialTokens { get; set; }

    /// <summary>
    /// Quantize the base's linear layers on load (QLoRA-style: int8 or NF4; the adapter stays float), or keep them 16-bit
    /// (BFloat16, Float16).
    /// </summary>
    public QuantizationFormat Quantization { get; set; }

    /// <summary>
    /// The PEFT method and its settings (e.g. <c>new LoraConfig { R = 8, TargetModules = ... }</c>,
    /// <c>new PromptTuningConfig { NumVirtualTokens = 16 }</c>); null = LoRA r 8, alpha 16 on PEFT's default layers.
    /// </summary>
    public IPeftConfig? Method { get; set; }

    /// <summary>An HF PEFT adapter folder to continue training from instead of a fresh adapter (its config replaces <see cref="Method"/>).</summary>
    public string? InitialAdapterFolder { get; set; }

    /// <summary>
    /// An Int32 column with each row's task (0-based), read in training and at prediction: needed by
    /// multitask prompt tuning (HF's <c>task_ids</c>), ignored by the other methods; null for none.
    /// </summary>
    public string? TaskIdColumnName { get; set; }

    /// <summary>Passes over the data.</summary>
    public int Epochs { get; set; } = 3;

    /// <summary>Rows per step.</summary>
    public int BatchSize { get; set; } = 8;

    /// <summary>Peak learning rate of AdamW.</summary>
    public float LearningRate { get; set; } = 1e-3f;

    /// <summary>How the learning rate moves after warmup.</summary>
    public LearningRateScheduleKind Schedule { get; set; } = LearningRateScheduleKind.Linear;

    /// <summary>Share of the steps spent warming up the learning rate from 0.</summary>
    public float WarmupRatio { get; set; }

    /// <summary>Micro-batches accumulated per optimizer step.</summary>
    public int GradientAccumulationSteps { get; set; } = 1;

    /// <summary>AdamW's decoupled weight decay.</summary>
    public float WeightDecay { get; set; }

    /// <summary>
    /// Rows held to shuffle each epoch: Fit streams the data through a cursor, tokenizing as it
    /// reads, and keeps only this many rows (plus the batch in training); data no larger than this
    /// is shuffled as a whole.
    /// </summary>
    public int ShuffleBufferSize { get; set; } = 10_000;

    /// <summary>Tokens kept per row (the rest is cut).</summary>
    public int? MaxLength { get; set; } = 128;

    /// <summary>Rows to compute the validation loss on after each epoch (for early stopping and the best weights).</summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>Stop after this many validations without improvement (needs <see cref="ValidationSet"/>).</summary>
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>Seed of the adapter's initialization and of the shuffling.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Steps between progress lines in the context's log.</summary>
    public int LogEverySteps { get; set; } = 10;

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the setting.</summary>
    internal virtual void Validate()
    {
        if (string.IsNullOrWhiteSpace(BaseModelFolder))
            throw new ArgumentOutOfRangeException(nameof(BaseModelFolder),
                "Set BaseModelFolder to a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).");
        if (!Directory.Exists(BaseModelFolder))
            throw new ArgumentOutOfRangeException(nameof(BaseModelFolder), $"The base model folder '{BaseModelFolder}' does not exist.");
        if (Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), $"Epochs must be positive; got {Epochs}.");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"BatchSize must be positive; got {BatchSize}.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"LearningRate must be positive; got {LearningRate}.");
        if (ShuffleBufferSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(ShuffleBufferSize), $"ShuffleBufferSize must be positive; got {ShuffleBufferSize}.");
        if (MaxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxLength), $"MaxLength must be positive or null; got {MaxLength}.");
        if (GradientAccumulationSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps),
                $"GradientAccumulationSteps must be positive; got {GradientAccumulationSteps}.");
        if (EarlyStoppingPatience is not null && ValidationSet is null)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), "Early stopping needs a ValidationSet to measure.");
    }

    /// <summary>The engine's trainer settings.</summary>
    internal TrainerOptions ToTrainerOptions(int? padTokenId) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Schedule = Schedule,
        WarmupRatio = WarmupRatio,
        GradientAccumulationSteps = GradientAccumulationSteps,
        WeightDecay = WeightDecay,
        MaxLength = MaxLength,
        EarlyStoppingPatience = EarlyStoppingPatience,
        LoadBestAtEnd = EarlyStoppingPatience is not null,
        Seed = (ulong)Seed,
        LogEverySteps = LogEverySteps,
        PadTokenId = padTokenId,
    };
}
