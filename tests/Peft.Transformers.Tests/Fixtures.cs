namespace Peft.Transformers.Tests;

/// <summary>Locates ../shared/fixtures relative to the repository root.</summary>
internal static class Fixtures
{
    public static string Root { get; } = FindRoot();

    public static string Hf(params string[] parts) => Path.Combine([Root, "hf", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", "fixtures");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Peft.MLNet.sln"))) return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("../shared/fixtures not found beside the repository; CI and developers keep shared/ next to the clone.");
    }
}
