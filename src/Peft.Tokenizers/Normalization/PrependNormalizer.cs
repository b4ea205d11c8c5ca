namespace Peft.Tokenizers.Normalization;

/// <summary>Puts a string in front of any non-empty text (SentencePiece's "▁").</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}
