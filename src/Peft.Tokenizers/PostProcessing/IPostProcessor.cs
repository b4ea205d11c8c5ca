namespace Peft.Tokenizers.PostProcessing;

/// <summary>Adds the special tokens a model expects around an encoded text (when asked to).</summary>
internal interface IPostProcessor
{
    void Process(List<int> ids, List<string> tokens);
}
