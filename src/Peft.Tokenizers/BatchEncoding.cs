namespace Peft.Tokenizers;

/// <summary>Padded ids [batch, length] and attention masks (1 = token, 0 = padding).</summary>
/// <param name="Ids">Token ids, padded.</param>
/// <param name="AttentionMask">1 for tokens, 0 for padding.</param>
public sealed record BatchEncoding(int[,] Ids, int[,] AttentionMask);
