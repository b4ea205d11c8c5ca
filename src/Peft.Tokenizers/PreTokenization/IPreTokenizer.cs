namespace Peft.Tokenizers.PreTokenization;

/// <summary>Splits normalized text into pieces that the model tokenizes separately, keeping original spans.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the pieces of <paramref name="text"/> to <paramref name="output"/>; <paramref name="first"/> marks the text's first piece.</summary>
    void Split(AlignedText text, bool first, List<AlignedText> output);

    /// <summary>
    /// What remains when splitting is turned off (ML.NET's considerPreTokenization = false): the
    /// text mapping some pre-tokenizers also do (ByteLevel's byte alphabet, Metaspace's ▁), or null
    /// for a pre-tokenizer that only splits.
    /// </summary>
    IPreTokenizer? WithoutSplitting() => null;
}
