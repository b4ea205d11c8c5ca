namespace Peft.Tokenizers.Interop;

/// <summary>
/// The model's special tokens for an ML.NET tokenizer wrapped by
/// <see cref="Tokenizer.FromMLTokenizer"/>: what that tokenizer does not know itself. Each value
/// left null is taken from the tokenizer where it has one (a SentencePiece or CodeGen tokenizer's
/// beginning/end-of-sentence and unknown ids, a Tiktoken tokenizer's <c>&lt;|endoftext|&gt;</c> as
/// eos, a BERT tokenizer's padding id).
/// </summary>
public sealed record MLTokenizerOptions
{
    /// <summary>Beginning-of-sequence id.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence id (stops generation).</summary>
    public int? EosTokenId { get; init; }

    /// <summary>Padding id.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Unknown-token id.</summary>
    public int? UnkTokenId { get; init; }

    /// <summary>Prepend the bos id when encoding with special tokens (if the tokenizer did not already).</summary>
    public bool AddBosToken { get; init; }

    /// <summary>Append the eos id when encoding with special tokens (if the tokenizer did not already).</summary>
    public bool AddEosToken { get; init; }

    /// <summary>
    /// Number of ids, for rejecting ids outside it on decode; null takes the tokenizer's vocabulary
    /// (or, for Tiktoken, which does not publish it, its largest special id + 1).
    /// </summary>
    public int? VocabularySize { get; init; }
}
