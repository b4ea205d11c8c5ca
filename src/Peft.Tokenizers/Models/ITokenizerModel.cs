namespace Peft.Tokenizers.Models;

/// <summary>Turns one pre-tokenized piece into vocabulary tokens.</summary>
internal interface ITokenizerModel
{
    /// <summary>Appends the ids, token strings and character spans within <paramref name="piece"/> of its tokens.</summary>
    void Tokenize(string piece, List<int> ids, List<string> tokens, List<(int Start, int End)> spans);

    /// <summary>The token string of an id, or null.</summary>
    string? IdToToken(int id);

    /// <summary>The id of a token string, or null.</summary>
    int? TokenToId(string token);

    /// <summary>Number of ids the model defines.</summary>
    int VocabularySize { get; }
}
