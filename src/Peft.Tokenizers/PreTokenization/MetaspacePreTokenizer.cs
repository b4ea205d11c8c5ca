namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// SentencePiece's Metaspace: spaces become the replacement character (▁), a ▁ is prepended per
/// the prepend scheme (legacy <c>add_prefix_space</c> = always), and with <c>split</c> each piece
/// starts at a ▁.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, string prependScheme, bool split) : IPreTokenizer
{
    public void Split(AlignedText text, bool first, List<AlignedText> output)
    {
        bool prepend = (prependScheme == "always" || (prependScheme == "first" && first))
            && text.Length > 0 && text.Text[0] != ' ' && text.Text[0] != replacement;
        var builder = new AlignedTextBuilder(text.Length + 1);
        if (prepend) builder.Append(replacement, text.Starts[0], text.Starts[0]);
        for (int i = 0; i < text.Length; i++) builder.Append(text.Text[i] == ' ' ? replacement : text.Text[i], text.Starts[i], text.Ends[i]);
        var replaced = builder.Build();
        if (!split)
        {
            if (replaced.Length > 0) output.Add(replaced);
            return;
        }
        int start = 0;
        for (int i = 1; i < replaced.Length; i++)
        {
            if (replaced.Text[i] != replacement) continue;
            output.Add(replaced.Slice(start, i - start));
            start = i;
        }
        if (start < replaced.Length) output.Add(replaced.Slice(start, replaced.Length - start));
    }

    public IPreTokenizer? WithoutSplitting() => new MetaspacePreTokenizer(replacement, prependScheme, split: false);
}
