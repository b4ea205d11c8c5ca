namespace Peft.Tuners.Lora;

/// <summary>Which base biases a LoRA adapter trains (PEFT's <c>bias</c>: "none", "all", "lora_only").</summary>
public enum LoraBias
{
    /// <summary>"none": no bias trains.</summary>
    None,

    /// <summary>"all": every bias of the base model trains with the adapter.</summary>
    All,

    /// <summary>"lora_only": the biases of the layers the adapter wraps.</summary>
    LoraOnly,
}
