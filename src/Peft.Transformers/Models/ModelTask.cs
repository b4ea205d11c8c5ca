namespace Peft.Transformers.Models;

/// <summary>What a model is for: the one fact that decides how adapters feed it, what its loss is, and HF PEFT's <c>task_type</c>.</summary>
public enum ModelTask
{
    /// <summary>A decoder-only language model predicting the next token (HF PEFT's <c>CAUSAL_LM</c>).</summary>
    CausalLM,

    /// <summary>An encoder-decoder model generating a target from a source (HF PEFT's <c>SEQ_2_SEQ_LM</c>).</summary>
    Seq2SeqLM,

    /// <summary>A model with a classification head giving one class per row (HF PEFT's <c>SEQ_CLS</c>).</summary>
    SequenceClassification,
}
