namespace Peft.Torch.Compare;

/// <summary>Builds both programs (Release) and gives the dotnet arguments that start each.</summary>
internal static class Builds
{
    /// <summary>Copies the TorchSharp baseline out of its read-only folder, builds it, and returns its dll.</summary>
    public static string TorchSharp(ComparisonOptions options)
    {
        string copy = Path.Combine(options.WorkFolder, "tsbench");
        string dll = Path.Combine(copy, "bin", "Release", "net10.0", "tsbench.dll");
        if (options.NoBuild) return Existing(dll);
        if (!File.Exists(Path.Combine(options.TorchSharpSource, "tsbench.csproj")))
            throw new InvalidOperationException($"No tsbench.csproj in {options.TorchSharpSource} (--torchsharp DIR).");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.EnumerateFiles(options.TorchSharpSource))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        // Empty props/targets stop MSBuild's search upward, so a --work inside this repository does not give the baseline
        // our Directory.Build.props (warnings as errors, nullable), which its sources are not written for.
        File.WriteAllText(Path.Combine(copy, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(copy, "Directory.Build.targets"), "<Project />\n");
        Console.WriteLine($"building the TorchSharp baseline in {copy}");
        ChildProcess.Run("dotnet", ["build", "-c", "Release", "--nologo", "-v", "q", Path.Combine(copy, "tsbench.csproj")]);
        return Existing(dll);
    }

    /// <summary>Builds bench/Peft.Benchmarks and returns its dll (its <c>json</c> mode prints the same fields).</summary>
    public static string Ours(ComparisonOptions options)
    {
        string project = Path.Combine(options.Repository, "bench", "Peft.Benchmarks", "Peft.Benchmarks.csproj");
        string dll = Path.Combine(options.Repository, "bench", "Peft.Benchmarks", "bin", "Release", "net10.0", "Peft.Benchmarks.dll");
        if (options.NoBuild) return Existing(dll);
        Console.WriteLine("building bench/Peft.Benchmarks");
        ChildProcess.Run("dotnet", ["build", "-c", "Release", "--nologo", "-v", "q", project]);
        return Existing(dll);
    }

    private static string Existing(string dll) =>
        File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing; run without --no-build.");
}
