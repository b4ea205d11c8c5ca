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

    /// <summary>
    /// A conversation rendered with the model's chat template: the turns before the last assistant turn (with the
    /// template's generation prompt) and that turn as the template writes it; the template writes the special
    /// tokens, so neither part gets the tokenizer's, and the loss falls on the answer.
    /// </summary>
    Chat,
}
