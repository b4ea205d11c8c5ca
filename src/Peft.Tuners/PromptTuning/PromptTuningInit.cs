namespace Peft.Tuners.PromptTuning;

/// <summary>How fresh prompt-tuning virtual tokens start (PEFT's <c>prompt_tuning_init</c>).</summary>
public enum PromptTuningInit
{
    /// <summary>RANDOM: N(0, 1), as nn.Embedding initializes.</summary>
    Random,

    /// <summary>SAMPLE_VOCAB: rows of the model's token embedding, picked at random.</summary>
    SampleVocab,

    /// <summary>TEXT: the token embeddings of <see cref="PromptTuningConfig.PromptTuningInitText"/>, repeated to fill the rows.</summary>
    Text,
}
