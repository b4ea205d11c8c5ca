namespace Peft.Tuners.Training;

/// <summary>The learning-rate schedules of Hugging Face's Trainer (after linear warmup).</summary>
public enum LearningRateScheduleKind
{
    /// <summary>Constant after warmup.</summary>
    Constant,

    /// <summary>Linear decay to 0 at the last step (HF's default).</summary>
    Linear,

    /// <summary>Half-cosine decay to 0 at the last step.</summary>
    Cosine,
}
