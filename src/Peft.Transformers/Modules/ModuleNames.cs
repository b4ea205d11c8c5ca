namespace Peft.Transformers.Modules;

/// <summary>
/// How Hugging Face names and matches modules by name (PEFT's <c>modules_to_save</c>,
/// transformers' quantization exclusions): a name matches a module path equal to it or ending in "." + it.
/// </summary>
public static class ModuleNames
{
    /// <summary>The module a parameter belongs to: "model.embed_tokens.weight" -> "model.embed_tokens".</summary>
    public static string ModulePath(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        int dot = parameterName.LastIndexOf('.');
        return dot < 0 ? parameterName : parameterName[..dot];
    }

    /// <summary>True when <paramref name="modulePath"/> is <paramref name="module"/> or ends with "." + it.</summary>
    public static bool Matches(string modulePath, string module)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(module);
        return modulePath == module || modulePath.EndsWith("." + module, StringComparison.Ordinal);
    }
}
