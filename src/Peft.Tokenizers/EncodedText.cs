namespace Peft.Tokenizers;

/// <summary>The result of encoding one text: token ids, the tokens' strings and where each came from, in order.</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="Tokens">The vocabulary string of each id.</param>
/// <param name="Offsets">
/// Each token's span [Start, End) in the input string (UTF-16 indices); special tokens added by
/// the post-processor have (0, 0). A token made of part of a character (a byte of an emoji) spans
/// the whole character; characters a normalizer merged share their span.
/// </param>
public sealed record EncodedText(IReadOnlyList<int> Ids, IReadOnlyList<string> Tokens, IReadOnlyList<(int Start, int End)> Offsets);
