namespace Peft.Tokenizers.PreTokenization;

/// <summary>Splits normalized text into pieces that the model tokenizes separately.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the pieces of <paramref name="text"/> to <paramref name="output"/>; <paramref name="first"/> marks the text's first piece.</summary>
    void Split(string text, bool first, List<string> output);
}
