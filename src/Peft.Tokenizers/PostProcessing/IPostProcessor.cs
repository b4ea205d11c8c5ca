namespace Peft.Tokenizers.PostProcessing;

/// <summary>Adds the special tokens a model expects around an encoded text (when asked to).</summary>
/// <remarks>Added special tokens get the empty offset (0, 0).</remarks>
internal interface IPostProcessor
{
    void Process(List<int> ids, List<string> tokens, List<(int Start, int End)> offsets);
}
