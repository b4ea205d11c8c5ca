namespace Peft.Tuners.PrefixTuning;

/// <summary>How a fresh prefix starts.</summary>
public enum PrefixInitialization
{
    /// <summary>RANDOM: N(0, 1) embeddings, as PEFT (its only mode).</summary>
    Random,

    /// <summary>ZERO: zero embeddings (the prefix starts as keys and values of zero, or the projection of zeros).</summary>
    Zero,

    /// <summary>
    /// TEXT: the keys and values the frozen model computes for the first tokens of
    /// <see cref="PrefixTuningConfig.InitText"/> (the prefix-tuning paper's initialization; without
    /// projection only).
    /// </summary>
    Text,
}
