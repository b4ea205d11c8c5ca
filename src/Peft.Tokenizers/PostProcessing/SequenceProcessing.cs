namespace Peft.Tokenizers.PostProcessing;

/// <summary>Applies post-processors in order (ByteLevel's, which only trims offsets, is left out).</summary>
internal sealed class SequenceProcessing(IReadOnlyList<IPostProcessor> parts) : IPostProcessor
{
    public void Process(List<int> ids, List<string> tokens, List<(int Start, int End)> offsets)
    {
        foreach (var p in parts) p.Process(ids, tokens, offsets);
    }
}
