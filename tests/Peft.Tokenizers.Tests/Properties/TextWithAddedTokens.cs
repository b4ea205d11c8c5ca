using CsCheck;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// Text made of random segments with added tokens' texts between them, as a chat template lays
/// "&lt;|im_start|&gt;" between messages. The added tokens are split out before normalization
/// (none of these fixtures' added tokens is normalized), so each segment normalizes on its own.
/// </summary>
/// <param name="Segments">The random text around the tokens (one more than <paramref name="Tokens"/>); none contains an added token's text.</param>
/// <param name="Tokens">The added tokens between the segments.</param>
internal sealed record TextWithAddedTokens(string[] Segments, (string Content, bool Special)[] Tokens)
{
    public string Text => Join(Segments, keepSpecial: true);

    /// <summary>What decoding the encoding gives: each segment as the normalizer makes it, the tokens as they are (special ones only when kept).</summary>
    public string Decoded(Func<string, string> normalize, bool keepSpecial) => Join(Segments.Select(normalize).ToArray(), keepSpecial);

    private string Join(string[] segments, bool keepSpecial)
    {
        var text = new System.Text.StringBuilder(segments[0]);
        for (int i = 0; i < Tokens.Length; i++)
        {
            if (keepSpecial || !Tokens[i].Special) text.Append(Tokens[i].Content);
            text.Append(segments[i + 1]);
        }
        return text.ToString();
    }

    /// <summary>0..3 added tokens of <paramref name="fixture"/> between segments of up to 12 scalar values.</summary>
    public static Gen<TextWithAddedTokens> Generate(ByteLevelFixture fixture) =>
        from count in Gen.Int[0, 3]
        from segments in UnicodeTextGen.Text(12).Where(s => !fixture.ContainsAddedToken(s)).Array[count + 1]
        from tokens in Gen.OneOf<(string Content, bool Special)>([.. fixture.AddedTokens]).Array[count]
        select new TextWithAddedTokens(segments, tokens);

    public override string ToString() =>
        string.Join(" + ", Segments.Select((s, i) => UnicodeTextGen.Show(s) + (i < Tokens.Length ? " + " + Tokens[i].Content : "")));
}
