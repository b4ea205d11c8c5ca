namespace Peft.Tokenizers;

/// <summary>The result of encoding one text: token ids and the tokens' strings, in order.</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="Tokens">The vocabulary string of each id.</param>
public sealed record EncodedText(IReadOnlyList<int> Ids, IReadOnlyList<string> Tokens);
