using System.Text;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>
/// Real English text from disk, no download: the Markdown files of the repository and of
/// ../shared, then the license texts Debian installs in /usr/share/common-licenses, in path order,
/// split into paragraphs (blank-line separated) that are encoded one call each, as documents
/// chunked for a model are.
/// </summary>
internal static class Corpus
{
    private static readonly Lazy<string[]> Cached = new(Load);

    public static string[] Paragraphs => Cached.Value;

    public static long Bytes => Paragraphs.Sum(p => (long)Encoding.UTF8.GetByteCount(p));

    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Peft.MLNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository (Peft.MLNet.sln) is not above the benchmark's folder.");
    }

    public static string FixtureFolder(string name)
    {
        string shared = Path.GetFullPath(Path.Combine(Repository(), "..", "shared"));
        string folder = Path.Combine(shared, "fixtures", "tokenizers", name);
        return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"{folder} not found.");
    }

    private static string[] Load()
    {
        string repo = Repository();
        string shared = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        static bool Built(string path) => path.Split(Path.DirectorySeparatorChar) is var parts
            && parts.Any(p => p is "bin" or "obj" or "BenchmarkDotNet.Artifacts" or ".git");
        var files = new List<string>();
        foreach (string root in new[] { repo, shared })
            if (Directory.Exists(root))
                files.AddRange(Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories).Where(f => !Built(f)).Order(StringComparer.Ordinal));
        const string licenses = "/usr/share/common-licenses";
        if (Directory.Exists(licenses))
            files.AddRange(Directory.EnumerateFiles(licenses).Where(f => new FileInfo(f).LinkTarget is null).Order(StringComparer.Ordinal));
        var paragraphs = new List<string>();
        foreach (string file in files)
            foreach (string p in File.ReadAllText(file).Replace("\r\n", "\n").Split("\n\n"))
                if (p.Trim().Length > 0) paragraphs.Add(p + "\n\n");
        return [.. paragraphs];
    }
}
