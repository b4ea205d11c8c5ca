namespace Peft.Transformers.Configuration;

/// <summary>A model's config.json is missing a field, has a wrong value, or names an unsupported model type.</summary>
public sealed class ModelConfigException : Exception
{
    /// <summary>Creates the exception; the message starts with the source file.</summary>
    public ModelConfigException(string source, string field, string problem)
        : base($"{source}: field '{field}' {problem}")
    {
        ConfigSource = source;
        Field = field;
    }

    /// <summary>The config file (or label) that failed.</summary>
    public string ConfigSource { get; }

    /// <summary>The offending JSON field.</summary>
    public string Field { get; }
}
