namespace Peft.Tuners.Adapters;

/// <summary>An adapter_config.json is invalid, names an unsupported method, or contradicts the base model.</summary>
public sealed class AdapterConfigException(string message) : Exception(message);
