namespace Peft.Tokenizers.Normalization;

/// <summary>Rewrites text before it is split (Unicode forms, case, replacements).</summary>
internal interface INormalizer
{
    string Normalize(string text);
}
