namespace Peft.Transformers.Masking;

/// <summary>
/// How a family's Hugging Face implementation combines causal and padding masks, which decides
/// what padded query rows (fully masked) attend to. Non-padded rows are identical in every style.
/// </summary>
public enum MaskStyle
{
    /// <summary>
    /// GPT-2 eager attention: causally hidden scores are replaced by finfo.min inside attention
    /// (no gradient flows through them), then (1 − mask)·finfo.min is added, so a key that is both
    /// hidden and padding gets −∞ (float32 overflow). The mask built for this style holds only the
    /// padding part; attention applies the causal part (<c>replaceFutureScores</c>).
    /// </summary>
    Gpt2,

    /// <summary>
    /// Llama/Mistral/Qwen2 and T5: any key hidden for any reason gets exactly finfo.min, so a fully
    /// masked row attends uniformly to every key.
    /// </summary>
    MinValue,
}
