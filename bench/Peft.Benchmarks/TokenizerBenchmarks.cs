using System.Text;
using BenchmarkDotNet.Attributes;
using Peft.Tokenizers;

namespace Peft.Benchmarks;

/// <summary>
/// Encode throughput of the fixture tokenizers on about 200 KB of generated English prose and C#
/// code (deterministic, no download): <c>dotnet run -c Release --project bench/Peft.Benchmarks -- --filter '*Tokenizer*'</c>.
/// MB/s = text bytes / mean time. The word cache is warm after the first iteration, as in serving.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class TokenizerBenchmarks
{
    private Tokenizer _tokenizer = null!;
    private string _text = "";

    /// <summary>The fixture tokenizer folder.</summary>
    [Params("gpt2", "llama3", "mistral")]
    public string Name { get; set; } = "gpt2";

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = Tokenizer.Load(Path.Combine(FindShared(), "fixtures", "tokenizers", Name));
        _text = Corpus();
        Console.WriteLine($"// text: {Encoding.UTF8.GetByteCount(_text):N0} bytes, {_tokenizer.Encode(_text, false).Ids.Count:N0} tokens");
    }

    [Benchmark]
    public int Encode() => _tokenizer.Encode(_text, false).Ids.Count;

    internal static string Corpus()
    {
        string[] words = ["the", "model", "adapter", "learns", "a", "small", "set", "of", "weights", "while", "base", "stays", "frozen", "and",
            "training", "runs", "on", "CPU", "with", "prefix", "tuning", "LoRA", "rank", "eight", "tokens", "per", "second", "in", "2026,", "about", "12.5%"];
        var random = new Random(7);
        var text = new StringBuilder();
        while (text.Length < 200_000)
        {
            if (random.Next(6) == 0)
            {
                text.Append("    var output = model.Forward(ids, mask, labels: ids);\n    if (output.Loss is { } loss) total += loss.Item();\n");
                continue;
            }
            int n = 8 + random.Next(16);
            for (int i = 0; i < n; i++) text.Append(i == 0
                ? char.ToUpperInvariant(words[random.Next(words.Length)][0]) + words[random.Next(words.Length)][1..]
                : words[random.Next(words.Length)]).Append(i == n - 1 ? ". " : " ");
            if (random.Next(4) == 0) text.Append('\n');
        }
        return text.ToString();
    }

    private static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
                if (Directory.Exists(Path.Combine(candidate, "fixtures", "tokenizers"))) return candidate;
        throw new DirectoryNotFoundException("../shared not found beside the repository.");
    }
}
