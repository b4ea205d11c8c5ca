namespace Peft.Tuners.Adapters;

/// <summary>How PEFT names and matches whole modules (<c>modules_to_save</c>).</summary>
internal static class ModuleNames
{
    /// <summary>"model.embed_tokens.weight" -> "model.embed_tokens".</summary>
    public static string ModulePath(string parameterName)
    {
        int dot = parameterName.LastIndexOf('.');
        return dot < 0 ? parameterName : parameterName[..dot];
    }

    /// <summary>PEFT's rule: the module's full path, or a path ending in "." + the name.</summary>
    public static bool Matches(string modulePath, string module) =>
        modulePath == module || modulePath.EndsWith("." + module, StringComparison.Ordinal);
}
