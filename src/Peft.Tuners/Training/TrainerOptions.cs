namespace Peft.Tuners.Training;

/// <summary>Settings of a <see cref="Trainer"/> run, named and defaulted like Hugging Face's TrainingArguments where they overlap.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training data (ignored when <see cref="MaxSteps"/> is set).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Total optimizer steps; null = epochs × steps per epoch.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Rows per forward/backward pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Forward/backward passes summed into one optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Peak learning rate (prompt methods like 1e-2..3e-2, LoRA 1e-4..1e-3).</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>AdamW's decoupled weight decay.</summary>
    public float WeightDecay { get; init; }

    /// <summary>AdamW β₁.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>AdamW β₂.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>AdamW ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Schedule after warmup.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Linear;

    /// <summary>Warmup steps (linear from 0); overrides <see cref="WarmupRatio"/> when positive.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Warmup as a fraction of the total steps.</summary>
    public float WarmupRatio { get; init; }

    /// <summary>Global gradient-norm clip; 0 = no clipping.</summary>
    public float MaxGradNorm { get; init; } = 1f;

    /// <summary>Evaluate every this many optimizer steps (needs evaluation data); 0 = at the end of each epoch.</summary>
    public int EvalEverySteps { get; init; }

    /// <summary>Stop after this many evaluations without improvement; null = never stop early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>How much the evaluation loss must drop to count as an improvement.</summary>
    public float EarlyStoppingThreshold { get; init; }

    /// <summary>At the end, put back the adapter weights of the best evaluation.</summary>
    public bool LoadBestAtEnd { get; init; }

    /// <summary>Recompute each block's activations in backward (less memory, one extra forward per block, same gradients).</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// Compute a causal LM's loss without holding the [batch, length, vocab] logits (chunked LM head
    /// and cross-entropy; on by default): far less memory for large vocabularies, and with the
    /// usual frozen LM head no extra work (a trainable head costs one more head product per step).
    /// </summary>
    public bool ChunkedLoss { get; init; } = true;

    /// <summary>Seed of the data order (each epoch is a seeded shuffle).</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Shuffle the training rows each epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Id used to pad input rows to the batch's longest (masked out, never a target); null = the model's pad id or 0.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Longer rows are cut to this many tokens (inputs and labels); null = no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Report progress every this many optimizer steps.</summary>
    public int LogEverySteps { get; init; } = 10;

    /// <summary>Folder for training checkpoints (replaced atomically); null = none.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Write a checkpoint every this many optimizer steps (needs <see cref="CheckpointFolder"/>); 0 = only at the end.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Checks every value; the message names the option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"TrainerOptions.{name} {rule}; got {value}.");
        }
        Check(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
        Check(MaxSteps is null or >= 1, nameof(MaxSteps), MaxSteps!, "must be at least 1 when set");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), GradientAccumulationSteps, "must be at least 1");
        Check(LearningRate >= 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be finite and >= 0");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be >= 0");
        Check(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, "must be >= 0");
        Check(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), WarmupRatio, "must be in [0, 1)");
        Check(MaxGradNorm >= 0, nameof(MaxGradNorm), MaxGradNorm, "must be >= 0");
        Check(EvalEverySteps >= 0, nameof(EvalEverySteps), EvalEverySteps, "must be >= 0");
        Check(EarlyStoppingPatience is null or >= 1, nameof(EarlyStoppingPatience), EarlyStoppingPatience!, "must be at least 1 when set");
        Check(MaxLength is null or >= 2, nameof(MaxLength), MaxLength!, "must be at least 2 when set");
        Check(LogEverySteps >= 1, nameof(LogEverySteps), LogEverySteps, "must be at least 1");
        Check(CheckpointEverySteps >= 0, nameof(CheckpointEverySteps), CheckpointEverySteps, "must be >= 0");
        if (CheckpointEverySteps > 0 && CheckpointFolder is null)
            throw new ArgumentException("TrainerOptions.CheckpointEverySteps is set but CheckpointFolder is not; name the folder.", nameof(CheckpointFolder));
    }
}
