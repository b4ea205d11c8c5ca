using System.Globalization;

namespace Peft.Torch.Compare;

/// <summary>The command line: <c>[--rounds 3] [--filter TEXT] [--threads 2] [--runs 5] [--size gpt2] [--loss chunked|full]
/// [--torchsharp DIR] [--work DIR] [--no-build]</c>.</summary>
internal sealed record ComparisonOptions
{
    /// <summary>Rounds; each runs every row ours then TorchSharp.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Keeps the rows whose name contains it (case-insensitive); empty keeps all.</summary>
    public string Filter { get; init; } = "";

    /// <summary>Threads for both sides (WorkerPool degree, torch.set_num_threads).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Timed steps or generations per process, after the warm-ups.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Model shape, one of tsbench's: tiny and small only check that everything runs; gpt2 is the measurement.</summary>
    public string Size { get; init; } = "gpt2";

    /// <summary>Our loss: chunked (the Trainer's default) or full (logits materialized, as libtorch does).</summary>
    public string Loss { get; init; } = "chunked";

    /// <summary>The TorchSharp baseline's sources (read-only; a copy is built).</summary>
    public required string TorchSharpSource { get; init; }

    /// <summary>Where the copy of the baseline is built.</summary>
    public required string WorkFolder { get; init; }

    /// <summary>Skip both builds (they are up to date from an earlier run).</summary>
    public bool NoBuild { get; init; }

    /// <summary>The repository root (the folder holding Peft.MLNet.sln).</summary>
    public required string Repository { get; init; }

    public static ComparisonOptions Parse(string[] args)
    {
        string repository = FindRepository();
        var options = new ComparisonOptions
        {
            Repository = repository,
            TorchSharpSource = Path.GetFullPath(Path.Combine(repository, "..", "shared", "bench", "torchsharp")),
            WorkFolder = Path.Combine(Path.GetTempPath(), "peft-torch-compare"),
        };
        for (int i = 0; i < args.Length; i++)
        {
            string key = args[i];
            if (key == "--no-build")
            {
                options = options with { NoBuild = true };
                continue;
            }
            if (i + 1 >= args.Length) throw new ArgumentException($"{key} needs a value.");
            string value = args[++i];
            options = key switch
            {
                "--rounds" => options with { Rounds = Positive(key, value) },
                "--filter" => options with { Filter = value },
                "--threads" => options with { Threads = Positive(key, value) },
                "--runs" => options with { Runs = Positive(key, value) },
                "--size" => options with
                {
                    Size = value is "tiny" or "small" or "gpt2" ? value : throw new ArgumentException("--size is tiny, small or gpt2."),
                },
                "--loss" => options with { Loss = value is "chunked" or "full" ? value : throw new ArgumentException("--loss is chunked or full.") },
                "--torchsharp" => options with { TorchSharpSource = Path.GetFullPath(value) },
                "--work" => options with { WorkFolder = Path.GetFullPath(value) },
                _ => throw new ArgumentException($"Unknown option '{key}'. Options: --rounds N --filter TEXT --threads N --runs N " +
                    "--size tiny|small|gpt2 --loss chunked|full --torchsharp DIR --work DIR --no-build"),
            };
        }
        return options;
    }

    private static int Positive(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new ArgumentException($"{key} must be a positive integer; got '{value}'.");

    /// <summary>Up from this program's folder, then from the current one, to the folder holding Peft.MLNet.sln.</summary>
    private static string FindRepository()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Peft.MLNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("Peft.MLNet.sln not found above this program or the current folder.");
    }
}
