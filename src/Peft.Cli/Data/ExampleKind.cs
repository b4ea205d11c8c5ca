namespace Peft.Cli.Data;

/// <summary>What a row trains: it decides the model head and how the row becomes token ids.</summary>
public enum ExampleKind
{
    /// <summary>A prompt and its completion: loss on the completion only.</summary>
    Completion,

    /// <summary>Plain text: causal language modelling on every token.</summary>
    Text,

    /// <summary>A text and its class label: sequence classification.</summary>
    Classification,

    /// <summary>A source and its target: sequence to sequence (T5).</summary>
    Seq2Seq,
}
