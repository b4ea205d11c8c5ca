using System.Text.Json;
using System.Text.RegularExpressions;
using Peft.Transformers.Modules;

namespace Peft.Tuners.Adapters;

/// <summary>
/// PEFT's <c>target_modules</c>: a list of names, each matching a module whose path equals it or
/// ends with "." + it, or a single string used as a regular expression that must match the whole
/// module path.
/// </summary>
public sealed class TargetModules
{
    private readonly Regex? _pattern;

    private TargetModules(IReadOnlyList<string> names, string? pattern)
    {
        Names = names;
        Pattern = pattern;
        if (pattern is not null) _pattern = new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    /// <summary>The listed names (empty when a pattern is used).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The regular expression, or null when names are listed.</summary>
    public string? Pattern { get; }

    /// <summary>Module names to match by suffix.</summary>
    public static TargetModules FromNames(params string[] names) => new(names, null);

    /// <summary>A regular expression over whole module paths.</summary>
    public static TargetModules FromPattern(string pattern) => new([], pattern);

    /// <summary>Whether <paramref name="modulePath"/> is targeted.</summary>
    public bool Matches(string modulePath) =>
        _pattern is not null ? _pattern.IsMatch(modulePath) : Names.Any(n => ModuleNames.Matches(modulePath, n));

    internal static TargetModules Parse(JsonElement element, string field)
    {
        return element.ValueKind switch
        {
            JsonValueKind.String => FromPattern(element.GetString()!),
            JsonValueKind.Array => FromNames(element.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
                ? e.GetString()!
                : throw new AdapterConfigException($"adapter_config.json: '{field}' must list strings; found {e}.")).ToArray()),
            _ => throw new AdapterConfigException($"adapter_config.json: '{field}' must be a list of module names or a regular expression string; " +
                $"found {element.ValueKind}."),
        };
    }
}
