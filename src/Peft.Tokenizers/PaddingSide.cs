namespace Peft.Tokenizers;

/// <summary>Where padding goes in a batch.</summary>
public enum PaddingSide
{
    /// <summary>After the tokens (training).</summary>
    Right,

    /// <summary>Before the tokens (decoder-only generation).</summary>
    Left,
}
