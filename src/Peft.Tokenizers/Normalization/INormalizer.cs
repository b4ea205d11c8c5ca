namespace Peft.Tokenizers.Normalization;

/// <summary>Rewrites text before it is split (Unicode forms, case, replacements), keeping each character's original span.</summary>
internal interface INormalizer
{
    AlignedText Normalize(AlignedText text);
}
