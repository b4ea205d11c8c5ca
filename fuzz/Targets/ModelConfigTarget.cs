using Peft.Transformers.Configuration;

namespace Peft.Fuzz;

/// <summary>config.json of a base model (every family, quantization_config included).</summary>
public static class ModelConfigTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("config", [typeof(ModelConfigException)], input => ModelConfig.Parse(FuzzInput.Text(input), "config.json"));
}
