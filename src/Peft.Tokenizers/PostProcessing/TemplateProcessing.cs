namespace Peft.Tokenizers.PostProcessing;

/// <summary>tokenizers' TemplateProcessing for single texts: special tokens and the sequence "A" in the template's order.</summary>
internal sealed class TemplateProcessing(IReadOnlyList<(bool IsSequence, int[] Ids, string[] Tokens)> single) : IPostProcessor
{
    public void Process(List<int> ids, List<string> tokens, List<(int Start, int End)> offsets)
    {
        var (sequenceIds, sequenceTokens, sequenceOffsets) = (ids.ToArray(), tokens.ToArray(), offsets.ToArray());
        ids.Clear();
        tokens.Clear();
        offsets.Clear();
        foreach (var item in single)
        {
            ids.AddRange(item.IsSequence ? sequenceIds : item.Ids);
            tokens.AddRange(item.IsSequence ? sequenceTokens : item.Tokens);
            if (item.IsSequence) offsets.AddRange(sequenceOffsets);
            else for (int i = 0; i < item.Ids.Length; i++) offsets.Add((0, 0));
        }
    }
}
