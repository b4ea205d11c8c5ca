namespace Peft.Tuners.MultitaskPromptTuning;

/// <summary>How a fresh multitask prompt starts (PEFT's <c>prompt_tuning_init</c> for multitask prompt tuning).</summary>
public enum MultitaskPromptTuningInit
{
    /// <summary>RANDOM: the shared prompt N(0, 1), task factors as PEFT draws them.</summary>
    Random,

    /// <summary>TEXT: the shared prompt from the token embeddings of <see cref="MultitaskPromptTuningConfig.PromptTuningInitText"/>.</summary>
    Text,

    /// <summary>AVERAGE_SOURCE_TASKS: the source adapter's shared prompt, task factors averaged over its tasks.</summary>
    AverageSourceTasks,

    /// <summary>EXACT_SOURCE_TASK: the source adapter's shared prompt and the factors of one of its tasks.</summary>
    ExactSourceTask,

    /// <summary>ONLY_SOURCE_SHARED: the source adapter's shared prompt only.</summary>
    OnlySourceShared,
}
