namespace ReadmeSnippets;

/// <summary>Marks a class generated from a C# block of a Markdown page (ReadmeSnippets.targets): where the block starts.</summary>
/// <param name="file">The page, relative to the repository root ("README.md").</param>
/// <param name="line">The 1-based line of the block's opening fence.</param>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class SnippetAttribute(string file, int line) : Attribute
{
    public string File { get; } = file;

    public int Line { get; } = line;

    /// <summary>Why the block is compiled but not run (its "snippet-compile-only" annotation), or null when it runs.</summary>
    public string? CompileOnly { get; set; }
}
