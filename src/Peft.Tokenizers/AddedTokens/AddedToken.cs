namespace Peft.Tokenizers.AddedTokens;

/// <summary>A token matched in the raw text before the model runs (special tokens, chat markers).</summary>
/// <param name="Id">Its id.</param>
/// <param name="Content">The text that stands for it.</param>
/// <param name="Special">Skipped by decode with skipSpecialTokens.</param>
/// <param name="SingleWord">Only matches as a whole word.</param>
/// <param name="LeftStrip">Takes the whitespace before it.</param>
/// <param name="RightStrip">Takes the whitespace after it.</param>
/// <param name="Normalized">Matched in normalized rather than raw text.</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LeftStrip, bool RightStrip, bool Normalized);
