namespace Peft.Transformers.SafeTensors;

/// <summary>A safetensors file is truncated, corrupt or uses something this library does not support.</summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with a message saying what is wrong.</summary>
    public SafeTensorsFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
    }

    /// <summary>The file that failed to parse.</summary>
    public string Path { get; }
}
