namespace Peft.Tokenizers.PreTokenization;

/// <summary>Applies pre-tokenizers in order, each to every piece of the one before.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> parts) : IPreTokenizer
{
    public void Split(string text, bool first, List<string> output)
    {
        var pieces = new List<string> { text };
        foreach (var part in parts)
        {
            var next = new List<string>();
            for (int i = 0; i < pieces.Count; i++) part.Split(pieces[i], first && i == 0, next);
            pieces = next;
        }
        output.AddRange(pieces);
    }
}
