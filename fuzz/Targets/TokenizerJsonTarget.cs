using Peft.Tokenizers;

namespace Peft.Fuzz;

/// <summary>
/// tokenizer.json, then (when it loads) texts encoded and ids decoded through it: the text after a NUL in the input, or a
/// fixed text mixing scripts, digits, whitespace and a special-token-like string.
/// </summary>
public static class TokenizerJsonTarget
{
    private const string DefaultText = "Hello, world! 12345 café \u1100\u1161 日本語 🍕 <|endoftext|> <s>\n\t  x";

    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("tokenizer-json", [typeof(TokenizerFormatException)], Parse);

    private static void Parse(byte[] input)
    {
        var (json, text) = FuzzInput.Split(input);
        var tokenizer = Tokenizer.FromJson(json, "tokenizer.json");
        text ??= DefaultText;
        foreach (bool special in (bool[])[true, false])
        {
            var encoded = tokenizer.Encode(text, special);
            _ = tokenizer.Decode(encoded.Ids.ToArray(), skipSpecialTokens: false);
            _ = tokenizer.Decode(encoded.Ids.ToArray(), skipSpecialTokens: true);
        }
        Microsoft.ML.Tokenizers.Tokenizer asMl = tokenizer;
        _ = asMl.EncodeToIds(text);
        _ = asMl.CountTokens(text);
        // The ids the vocabulary has (a file may leave holes), decoded one at a time as a stream would.
        var decoder = tokenizer.CreateStreamingDecoder();
        for (int id = 0; id < Math.Min(tokenizer.VocabularySize, 2000); id++)
            if (tokenizer.IdToToken(id) is not null) _ = decoder.Add(id);
        _ = decoder.Flush();
    }
}
