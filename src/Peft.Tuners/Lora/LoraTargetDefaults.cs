using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Lora;

/// <summary>
/// The layers HF PEFT targets when a LoRA config names none (its
/// <c>TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING</c>): the attention's query and value
/// projections of each family.
/// </summary>
public static class LoraTargetDefaults
{
    /// <summary>PEFT's default target modules for <paramref name="family"/>.</summary>
    public static TargetModules For(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 => TargetModules.FromNames("c_attn"),
        ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Mistral => TargetModules.FromNames("q_proj", "v_proj"),
        ModelFamily.T5 => TargetModules.FromNames("q", "v"),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "No default LoRA targets for this family; name them in target_modules."),
    };
}
