namespace Peft.Fuzz;

/// <summary>Every fuzz target, by name.</summary>
public static class FuzzTargets
{
    /// <summary>The targets in the order the fuzz table lists them.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        SafetensorsTarget.Target, ModelConfigTarget.Target, AdapterTarget.Target, TokenizerJsonTarget.Target, TokenizerConfigTarget.Target,
        ChatTemplateTarget.Target, DataFileTarget.Jsonl, DataFileTarget.Csv, MLNetStateTarget.Target,
    ];

    /// <summary>The target called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such target; the message lists them.</exception>
    public static FuzzTarget Named(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"No fuzz target '{name}'; the targets: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));
}
