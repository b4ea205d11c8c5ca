namespace Peft.Tokenizers.PostProcessing;

/// <summary>RobertaProcessing (&lt;s&gt; A &lt;/s&gt;) and BertProcessing ([CLS] A [SEP]): one token before and one after.</summary>
internal sealed class SurroundProcessing((int Id, string Token) first, (int Id, string Token) last) : IPostProcessor
{
    public void Process(List<int> ids, List<string> tokens, List<(int Start, int End)> offsets)
    {
        ids.Insert(0, first.Id);
        tokens.Insert(0, first.Token);
        offsets.Insert(0, (0, 0));
        ids.Add(last.Id);
        tokens.Add(last.Token);
        offsets.Add((0, 0));
    }
}
