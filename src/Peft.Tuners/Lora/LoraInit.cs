namespace Peft.Tuners.Lora;

/// <summary>How a fresh LoRA adapter's A and B start (PEFT's <c>init_lora_weights</c>).</summary>
public enum LoraInit
{
    /// <summary>PEFT's default (<c>true</c>): A Kaiming-uniform as nn.Linear, B zero, so outputs start unchanged.</summary>
    KaimingUniform,

    /// <summary><c>"gaussian"</c>: A ~ N(0, 1/r), B zero.</summary>
    Gaussian,

    /// <summary>
    /// <c>false</c>: A and B both as nn.Linear initializes them, so the adapter changes outputs
    /// from the start (for tests and debugging, as in PEFT).
    /// </summary>
    Random,
}
