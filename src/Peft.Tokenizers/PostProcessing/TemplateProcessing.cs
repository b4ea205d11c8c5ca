namespace Peft.Tokenizers.PostProcessing;

/// <summary>tokenizers' TemplateProcessing for single texts: special tokens and the sequence "A" in the template's order.</summary>
internal sealed class TemplateProcessing(IReadOnlyList<(bool IsSequence, int[] Ids, string[] Tokens)> single) : IPostProcessor
{
    public void Process(List<int> ids, List<string> tokens)
    {
        var (sequenceIds, sequenceTokens) = (ids.ToArray(), tokens.ToArray());
        ids.Clear();
        tokens.Clear();
        foreach (var item in single)
        {
            ids.AddRange(item.IsSequence ? sequenceIds : item.Ids);
            tokens.AddRange(item.IsSequence ? sequenceTokens : item.Tokens);
        }
    }
}
