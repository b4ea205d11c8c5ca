namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// SentencePiece's Metaspace: spaces become the replacement character (▁), a ▁ is prepended per
/// the prepend scheme (legacy <c>add_prefix_space</c> = always), and with <c>split</c> each piece
/// starts at a ▁.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, string prependScheme, bool split) : IPreTokenizer
{
    public void Split(string text, bool first, List<string> output)
    {
        text = text.Replace(' ', replacement);
        bool prepend = prependScheme == "always" || (prependScheme == "first" && first);
        if (prepend && text.Length > 0 && text[0] != replacement) text = replacement + text;
        if (!split)
        {
            if (text.Length > 0) output.Add(text);
            return;
        }
        int start = 0;
        for (int i = 1; i < text.Length; i++)
        {
            if (text[i] != replacement) continue;
            output.Add(text[start..i]);
            start = i;
        }
        if (start < text.Length) output.Add(text[start..]);
    }
}
