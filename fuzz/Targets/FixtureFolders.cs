namespace Peft.Fuzz;

/// <summary>The reference fixtures in ../shared beside the repository, found from where the program runs.</summary>
public static class FixtureFolders
{
    /// <summary>../shared/fixtures.</summary>
    /// <exception cref="DirectoryNotFoundException">Not found above the program's folder or the working folder.</exception>
    public static string Root { get; } = Find();

    /// <summary>The tiny base model of a family ("gpt2", "llama", "t5") that the HF fixtures were made on.</summary>
    public static string Base(string family) => Path.Combine(Root, "hf", $"{family}_base", "base");

    private static string Find()
    {
        foreach (string start in (string[])[AppContext.BaseDirectory, Environment.CurrentDirectory])
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                foreach (string candidate in (string[])[Path.Combine(dir.FullName, "shared", "fixtures"),
                             Path.Combine(dir.FullName, "..", "shared", "fixtures")])
                    if (Directory.Exists(Path.Combine(candidate, "hf"))) return Path.GetFullPath(candidate);
        throw new DirectoryNotFoundException("../shared/fixtures not found above the program's folder or the working folder.");
    }
}
