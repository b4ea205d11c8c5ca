namespace Peft.Tokenizers.PreTokenization;

/// <summary>Applies pre-tokenizers in order, each to every piece of the one before.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> parts) : IPreTokenizer
{
    /// <summary>The pre-tokenizers, in order.</summary>
    public IReadOnlyList<IPreTokenizer> Parts => parts;

    public void Split(AlignedText text, bool first, List<AlignedText> output)
    {
        var pieces = new List<AlignedText> { text };
        foreach (var part in parts)
        {
            var next = new List<AlignedText>();
            for (int i = 0; i < pieces.Count; i++) part.Split(pieces[i], first && i == 0, next);
            pieces = next;
        }
        output.AddRange(pieces);
    }

    public IPreTokenizer? WithoutSplitting()
    {
        var kept = parts.Select(p => p.WithoutSplitting()).OfType<IPreTokenizer>().ToArray();
        return kept.Length == 0 ? null : new SequencePreTokenizer(kept);
    }
}
